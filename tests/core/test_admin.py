"""An administrator manages agencies and users; every write lands in the audit log."""

from __future__ import annotations

from conftest import PASSWORD


def test_admin_creates_an_agency_and_a_user_who_can_then_log_in(client, factory):
    factory.unit("68", "Lâm Đồng")
    admin = factory.headers(factory.user("admin"))
    agency = client.post(
        "/api/agencies",
        json={"code": "SXD-LD", "name": "Sở Xây dựng tỉnh Lâm Đồng", "unit_code": "68"},
        headers=admin,
    )
    assert agency.status_code == 201, agency.text
    user = client.post(
        "/api/users",
        json={
            "username": "xaydung",
            "full_name": "Lê Văn Cường",
            "role": "agency_staff",
            "unit_code": "68",
            "agency_code": "SXD-LD",
            "password": "mat-khau-dai-du",
        },
        headers=admin,
    )
    assert user.status_code == 201, user.text
    body = user.json()
    assert body["role_label_vi"] == "Cán bộ cơ quan xử lý" and body["agency_code"] == "SXD-LD"
    assert "password" not in str(body)
    login = client.post(
        "/api/auth/login", json={"username": "xaydung", "password": "mat-khau-dai-du"}
    )
    assert login.status_code == 200


def test_every_admin_write_is_audited_with_before_and_after(client, factory):
    factory.unit("68", "Lâm Đồng")
    admin_user = factory.user("admin", username="quantri")
    admin = factory.headers(admin_user)
    client.post(
        "/api/agencies", json={"code": "SYT", "name": "Sở Y tế", "unit_code": "68"}, headers=admin
    )
    client.patch("/api/agencies/SYT", json={"name": "Sở Y tế tỉnh Lâm Đồng"}, headers=admin)
    entries = client.get("/api/audit", params={"entity_type": "agency"}, headers=admin).json()[
        "items"
    ]
    assert [e["action"] for e in entries] == ["agency.update", "agency.create"]
    update = entries[0]
    assert update["actor"] == f"user:{admin_user.id}:quantri"
    assert (
        update["before"]["name"] == "Sở Y tế" and update["after"]["name"] == "Sở Y tế tỉnh Lâm Đồng"
    )
    assert update["request_id"]


def test_audit_never_stores_password_hashes(client, factory):
    factory.unit("68")
    admin = factory.headers(factory.user("admin"))
    client.post(
        "/api/users",
        json={
            "username": "ops1",
            "role": "operator",
            "unit_code": "68",
            "password": "mat-khau-dai-du",
        },
        headers=admin,
    )
    entries = client.get("/api/audit", params={"action": "user.create"}, headers=admin).json()[
        "items"
    ]
    assert entries and "password_hash" not in entries[0]["after"]


def test_duplicate_agency_code_is_a_conflict(client, factory):
    factory.unit("68")
    admin = factory.headers(factory.user("admin"))
    body = {"code": "SYT", "name": "Sở Y tế", "unit_code": "68"}
    assert client.post("/api/agencies", json=body, headers=admin).status_code == 201
    response = client.post("/api/agencies", json=body, headers=admin)
    assert response.status_code == 409 and response.json()["code"] == "duplicate_code"


def test_agency_staff_without_agency_is_refused(client, factory):
    factory.unit("68")
    admin = factory.headers(factory.user("admin"))
    response = client.post(
        "/api/users",
        json={
            "username": "nobody",
            "role": "agency_staff",
            "unit_code": "68",
            "password": "mat-khau-dai-du",
        },
        headers=admin,
    )
    assert response.status_code == 422 and response.json()["code"] == "agency_required"


def test_unknown_unit_code_is_a_clear_error(client, factory):
    admin = factory.headers(factory.user("admin"))
    response = client.post(
        "/api/agencies", json={"code": "X", "name": "X", "unit_code": "99999"}, headers=admin
    )
    assert response.status_code == 422 and response.json()["code"] == "unknown_unit"


def test_wrong_types_give_a_structured_422(client, factory):
    admin = factory.headers(factory.user("admin"))
    response = client.post("/api/users", json={"username": 5, "role": "king"}, headers=admin)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert {tuple(e["loc"][-1:]) for e in body["detail"]} >= {
        ("username",),
        ("role",),
        ("password",),
    }


def test_admin_cannot_lock_themselves_out(client, factory):
    me = factory.user("admin")
    response = client.patch(
        f"/api/users/{me.id}", json={"is_active": False}, headers=factory.headers(me)
    )
    assert response.status_code == 422 and response.json()["code"] == "self_lockout"


def test_password_reset_by_admin_lets_the_user_log_in_with_the_new_one(client, factory):
    admin = factory.headers(factory.user("admin"))
    user = factory.user("leader", factory.unit())
    client.patch(f"/api/users/{user.id}", json={"password": "mat-khau-moi-2026"}, headers=admin)
    old = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    new = client.post(
        "/api/auth/login", json={"username": user.username, "password": "mat-khau-moi-2026"}
    )
    assert old.status_code == 401 and new.status_code == 200
