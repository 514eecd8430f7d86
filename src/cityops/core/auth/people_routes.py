"""Admin API for agencies, users and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cityops.core.auth import people
from cityops.core.auth import schemas as s
from cityops.core.deps import SessionDep, require
from cityops.core.policy import Perm, Principal, Role

router = APIRouter(prefix="/api", tags=["users and agencies"])

AgencyReader = Annotated[Principal, Depends(require(Perm.agencies_read))]
AgencyWriter = Annotated[Principal, Depends(require(Perm.agencies_write))]
UserAdmin = Annotated[Principal, Depends(require(Perm.users_manage))]
KeyAdmin = Annotated[Principal, Depends(require(Perm.apikeys_manage))]


@router.get("/agencies")
def list_agencies(
    principal: AgencyReader,
    session: SessionDep,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> s.AgencyList:
    """List the agencies in your scope."""
    return people.list_agencies(session, principal, q=q, limit=limit, offset=offset)


@router.post("/agencies", status_code=201)
def create_agency(
    body: s.AgencyCreate, principal: AgencyWriter, session: SessionDep
) -> s.AgencyPublic:
    """Create an agency (admin)."""
    return people.agency_public(session, people.create_agency(session, principal, body))


@router.get("/agencies/{code}")
def get_agency(code: str, principal: AgencyReader, session: SessionDep) -> s.AgencyPublic:
    """Read one agency."""
    return people.agency_public(session, people.get_agency(session, principal, code))


@router.patch("/agencies/{code}")
def update_agency(
    code: str, body: s.AgencyUpdate, principal: AgencyWriter, session: SessionDep
) -> s.AgencyPublic:
    """Change an agency (admin)."""
    return people.agency_public(session, people.update_agency(session, principal, code, body))


@router.get("/users")
def list_users(
    principal: UserAdmin,
    session: SessionDep,
    role: Role | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> s.UserList:
    """List users in your scope (admin)."""
    return people.list_users(session, principal, role=role, q=q, limit=limit, offset=offset)


@router.post("/users", status_code=201)
def create_user(body: s.UserCreate, principal: UserAdmin, session: SessionDep) -> s.UserPublic:
    """Create a user with a role and a scope (admin)."""
    return people.user_public(session, people.create_user(session, principal, body))


@router.get("/users/{user_id}")
def get_user(user_id: int, principal: UserAdmin, session: SessionDep) -> s.UserPublic:
    """Read one user (admin)."""
    return people.user_public(session, people.get_user(session, principal, user_id))


@router.patch("/users/{user_id}")
def update_user(
    user_id: int, body: s.UserUpdate, principal: UserAdmin, session: SessionDep
) -> s.UserPublic:
    """Change a user's role, scope, details, status or password (admin)."""
    return people.user_public(session, people.update_user(session, principal, user_id, body))


@router.get("/api-keys")
def list_api_keys(principal: KeyAdmin, session: SessionDep) -> list[s.ApiKeyPublic]:
    """List API keys (admin); keys themselves are never shown again."""
    return people.list_api_keys(session, principal)


@router.post("/api-keys", status_code=201)
def create_api_key(
    body: s.ApiKeyCreate, principal: KeyAdmin, session: SessionDep
) -> s.ApiKeyCreated:
    """Create an API key for a script or integrator (admin); the key is shown once."""
    return people.issue_api_key(session, principal, body)


@router.delete("/api-keys/{key_id}")
def revoke_api_key(key_id: int, principal: KeyAdmin, session: SessionDep) -> s.ApiKeyPublic:
    """Revoke an API key (admin); it stops working at once."""
    return people.api_key_public(session, people.revoke_api_key(session, principal, key_id))
