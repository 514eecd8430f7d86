"""Every role against every endpoint family, inside and outside its administrative scope.

The expected outcomes are written out by hand (not derived from ROLE_PERMISSIONS), so a
change to the policy that opens or closes a door makes this test fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

ROLES = ("admin", "operator", "leader", "agency_staff", "unit_operator", "integrator", "anonymous")


@dataclass
class World:
    province: Any
    commune_a: Any
    commune_b: Any
    agency_a: Any
    agency_b: Any
    headers: dict[str, dict[str, str]]


@pytest.fixture
def world(factory, client) -> World:
    province = factory.unit("68", "Lâm Đồng", level="province")
    a = factory.unit("22918", "Phường Mũi Né", parent=province)
    b = factory.unit("22924", "Phường Phú Thủy", parent=province)
    agency_a = factory.agency(a, "UBND-A", "UBND phường Mũi Né")
    agency_b = factory.agency(b, "UBND-B", "UBND phường Phú Thủy")
    headers = {
        "admin": factory.headers(factory.user("admin")),
        "operator": factory.headers(factory.user("operator", province)),
        "leader": factory.headers(factory.user("leader", province)),
        "agency_staff": factory.headers(factory.user("agency_staff", province, agency_a)),
        "unit_operator": factory.headers(factory.user("unit_operator", a)),
        "integrator": {"X-API-Key": factory.api_key("integrator", province)},
        "anonymous": {},
    }
    return World(province, a, b, agency_a, agency_b, headers)


# family -> (method, path, json body, {role: expected status})
def _families(w: World) -> dict[str, tuple[str, str, dict[str, Any] | None, dict[str, int]]]:
    ok_all = {r: 200 for r in ROLES} | {"anonymous": 401}
    admin_only = {r: 403 for r in ROLES} | {"admin": 200, "anonymous": 401}
    return {
        "read a unit": ("GET", f"/api/units/{w.commune_a.code}", None, ok_all),
        "list units": ("GET", "/api/units", None, ok_all),
        "change a unit": (
            "PATCH",
            f"/api/units/{w.commune_a.code}",
            {"name_en": "Mui Ne"},
            admin_only,
        ),
        "read an agency": (
            "GET",
            f"/api/agencies/{w.agency_a.code}",
            None,
            ok_all | {"integrator": 403},
        ),
        "create an agency": (
            "POST",
            "/api/agencies",
            {"code": "NEW", "name": "Cơ quan mới", "unit_code": w.commune_a.code},
            admin_only | {"admin": 201},
        ),
        "list users": ("GET", "/api/users", None, admin_only),
        "create a user": (
            "POST",
            "/api/users",
            {
                "username": "newbie",
                "role": "leader",
                "unit_code": w.province.code,
                "password": "x" * 12,
            },
            admin_only | {"admin": 201},
        ),
        "list API keys": ("GET", "/api/api-keys", None, admin_only),
        "read the audit log": ("GET", "/api/audit", None, admin_only),
        "list modules": ("GET", "/api/modules", None, ok_all | {"integrator": 403}),
        "read KPIs": ("GET", "/api/kpis", None, ok_all | {"integrator": 403}),
        "who am I": ("GET", "/api/auth/me", None, ok_all),
    }


FAMILIES = (
    "read a unit",
    "list units",
    "change a unit",
    "read an agency",
    "create an agency",
    "list users",
    "create a user",
    "list API keys",
    "read the audit log",
    "list modules",
    "read KPIs",
    "who am I",
)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_role_gets_exactly_the_access_its_role_allows(client, world, family):
    method, path, body, expected = _families(world)[family]
    got = {}
    for role in ROLES:
        response = client.request(method, path, json=body, headers=world.headers[role])
        got[role] = response.status_code
        assert "code" in response.json() or response.status_code < 400
        if response.status_code in (200, 201) and method != "GET":
            # undo so the next role meets the same state
            _undo(client, world, family)
    assert got == expected


def _undo(client, world: World, family: str) -> None:
    admin = world.headers["admin"]
    from cityops.core.auth.models import Agency, User

    db = client.app.state.db
    with db.session() as s:
        if family == "create an agency":
            s.query(Agency).filter(Agency.code == "NEW").delete()
        if family == "create a user":
            s.query(User).filter(User.username == "newbie").delete()
    assert admin  # the admin headers stay valid


OUT_OF_SCOPE = (
    ("GET", "/api/units/{b}"),
    ("GET", "/api/units/{b}/children"),
    ("GET", "/api/agencies/{agency_b}"),
)


@pytest.mark.parametrize("method,template", OUT_OF_SCOPE)
def test_commune_operator_cannot_read_another_commune(client, world, method, template):
    path = template.format(b=world.commune_b.code, agency_b=world.agency_b.code)
    response = client.request(method, path, headers=world.headers["unit_operator"])
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # ... while the province operator can
    assert client.request(method, path, headers=world.headers["operator"]).status_code == 200


def test_commune_operator_lists_only_their_own_subtree(client, world):
    codes = {
        u["code"]
        for u in client.get("/api/units", headers=world.headers["unit_operator"]).json()["items"]
    }
    assert world.commune_a.code in codes
    assert world.commune_b.code not in codes
    assert world.province.code not in codes
    agencies = client.get("/api/agencies", headers=world.headers["unit_operator"]).json()["items"]
    assert [a["code"] for a in agencies] == [world.agency_a.code]


def test_commune_scoped_api_key_cannot_read_another_commune(client, factory, world):
    key = factory.api_key("integrator", world.commune_a)
    assert (
        client.get(f"/api/units/{world.commune_a.code}", headers={"X-API-Key": key}).status_code
        == 200
    )
    assert (
        client.get(f"/api/units/{world.commune_b.code}", headers={"X-API-Key": key}).status_code
        == 404
    )


def test_scoped_admin_cannot_grant_a_scope_outside_their_own(client, factory, world):
    commune_admin = factory.headers(factory.user("admin", world.commune_a))
    body = {
        "username": "outsider",
        "role": "operator",
        "unit_code": world.commune_b.code,
        "password": "y" * 12,
    }
    response = client.post("/api/users", json=body, headers=commune_admin)
    assert response.status_code == 403
    body["unit_code"] = world.province.code
    assert client.post("/api/users", json=body, headers=commune_admin).status_code == 403
    body["unit_code"] = world.commune_a.code
    assert client.post("/api/users", json=body, headers=commune_admin).status_code == 201
