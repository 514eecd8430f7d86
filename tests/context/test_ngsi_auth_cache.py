"""NGSI-LD clients are recognised without a database look-up per request, yet a revoked key
or a disabled user is refused at once."""

from __future__ import annotations

BASE = "/ngsi-ld/v1"


def _new_key(client, admin: dict[str, str]) -> tuple[int, str]:
    created = client.post(
        "/api/api-keys",
        json={"name": "Trạm quan trắc Đà Lạt", "role": "integrator", "unit_code": "68"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["key"]


def test_a_revoked_api_key_is_refused_by_ngsi_ld_at_once(client, factory):
    factory.unit("68", "Lâm Đồng")
    admin = factory.headers(factory.user("admin"))
    key_id, key = _new_key(client, admin)
    for _ in range(3):  # the key's principal is now cached
        assert client.get(f"{BASE}/types", headers={"X-API-Key": key}).status_code == 200

    assert client.delete(f"/api/api-keys/{key_id}", headers=admin).status_code == 200

    refused = client.get(f"{BASE}/types", headers={"X-API-Key": key})
    assert refused.status_code == 401
    assert refused.json()["type"].endswith("/Unauthorized")


def test_revoking_one_key_leaves_other_keys_working(client, factory):
    factory.unit("68", "Lâm Đồng")
    admin = factory.headers(factory.user("admin"))
    revoked_id, revoked = _new_key(client, admin)
    _, kept = _new_key(client, admin)
    for key in (revoked, kept):
        assert client.get(f"{BASE}/types", headers={"X-API-Key": key}).status_code == 200

    assert client.delete(f"/api/api-keys/{revoked_id}", headers=admin).status_code == 200

    assert client.get(f"{BASE}/types", headers={"X-API-Key": revoked}).status_code == 401
    assert client.get(f"{BASE}/types", headers={"X-API-Key": kept}).status_code == 200


def test_a_disabled_user_is_refused_by_ngsi_ld_at_once(client, factory):
    factory.unit("68", "Lâm Đồng")
    admin = factory.headers(factory.user("admin"))
    operator = factory.user("operator")
    bearer = factory.headers(operator)
    assert client.get(f"{BASE}/types", headers=bearer).status_code == 200

    disabled = client.patch(f"/api/users/{operator.id}", json={"is_active": False}, headers=admin)
    assert disabled.status_code == 200, disabled.text

    assert client.get(f"{BASE}/types", headers=bearer).status_code == 401
