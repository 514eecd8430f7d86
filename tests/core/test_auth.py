"""Logging in, sessions, bearer tokens, API keys and login rate limiting."""

from __future__ import annotations

from sqlalchemy import select

from cityops.core.auth.models import ApiKey, User
from conftest import PASSWORD


def test_user_logs_in_with_password_and_gets_a_cookie_and_a_token(client, factory):
    user = factory.user("operator", factory.unit(), username="vanhanh")
    response = client.post("/api/auth/login", json={"username": "vanhanh", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert client.cookies.get("cityops_session") == token
    # the cookie alone identifies the user ...
    assert client.get("/api/auth/me").json()["name"] == "vanhanh"
    # ... and so does the bearer token, on a client without cookies
    client.cookies.clear()
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == "vanhanh" and me["role"] == "operator"
    assert "data:write" in me["permissions"] and "users:manage" not in me["permissions"]
    assert user.id == me["id"]


def test_password_is_stored_as_argon2_hash(client, factory, database):
    factory.user("leader", factory.unit(), username="lanhdao")
    with database.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "lanhdao"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_is_refused_with_a_structured_error(client, factory):
    factory.user("leader", factory.unit(), username="lanhdao")
    response = client.post("/api/auth/login", json={"username": "lanhdao", "password": "sai"})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"


def test_repeated_failed_logins_are_rate_limited_even_with_the_right_password(client, factory):
    factory.user("leader", factory.unit(), username="lanhdao")
    for _ in range(client.app.state.settings.auth.login_max_failures):
        client.post("/api/auth/login", json={"username": "lanhdao", "password": "guess"})
    response = client.post("/api/auth/login", json={"username": "lanhdao", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "login_rate_limited"


def test_oauth2_password_flow_gives_a_bearer_token_for_the_docs_authorize_button(client, factory):
    factory.user("admin", username="quantri")
    response = client.post("/api/auth/token", data={"username": "quantri", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.get("/api/users", headers=headers).status_code == 200


def test_logout_ends_the_session(client, factory):
    headers = factory.headers(factory.user("leader", factory.unit()))
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "bad_token"


def test_disabled_user_is_locked_out_at_once(client, factory):
    admin = factory.headers(factory.user("admin"))
    user = factory.user("operator", factory.unit())
    headers = factory.headers(user)
    response = client.patch(f"/api/users/{user.id}", json={"is_active": False}, headers=admin)
    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    login = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert login.status_code == 401


def test_admin_creates_an_api_key_that_works_until_revoked(client, factory, database):
    province = factory.unit("68", "Lâm Đồng")
    admin = factory.headers(factory.user("admin"))
    created = client.post(
        "/api/api-keys",
        json={"name": "Trạm quan trắc", "role": "integrator", "unit_code": "68"},
        headers=admin,
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("cok_")
    me = client.get("/api/auth/me", headers={"X-API-Key": key}).json()
    assert me["kind"] == "api_key" and me["unit_code"] == province.code
    # also accepted as a bearer token
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listed = client.get("/api/api-keys", headers=admin).json()
    assert listed[0]["last_used_at"] is not None and "key" not in listed[0]
    with database.session() as s:
        assert key not in s.scalar(select(ApiKey.key_hash))
    assert client.delete(f"/api/api-keys/{created.json()['id']}", headers=admin).status_code == 200
    response = client.get("/api/auth/me", headers={"X-API-Key": key})
    assert response.status_code == 401 and response.json()["code"] == "bad_api_key"


def test_unknown_api_key_is_refused(client):
    response = client.get("/api/auth/me", headers={"X-API-Key": "cok_nothing_here"})
    assert response.status_code == 401 and response.json()["code"] == "bad_api_key"
