"""FastAPI dependencies: the database session, the caller, and permission checks.

Dependencies that do no I/O are `async def`: FastAPI runs every plain `def` dependency in the
thread pool, and each such hop costs about 300 us of CPU, more than these functions do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from cityops.core.auth.service import anonymous, resolve_token
from cityops.core.config import Settings
from cityops.core.db import Database
from cityops.core.errors import Unauthorized
from cityops.core.policy import Perm, Principal, authorize

# Declared for OpenAPI so /docs offers "Authorize" with a password login or an API key.
_oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (cok_...)")


async def get_settings_dep(request: Request) -> Settings:
    """Return the app's settings."""
    return request.app.state.settings


async def get_db(request: Request) -> Database:
    """Return the app's database."""
    return request.app.state.db


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session that commits when the request succeeds."""
    with request.app.state.db.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_db)]
# scope="function": commit before the response is sent, so a failed commit is an HTTP error
# and the client's next request sees the write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_token(
    request: Request,
    bearer: Annotated[str | None, Depends(_oauth2)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> str | None:
    """Return the caller's API key, bearer token or session cookie (None: anonymous)."""
    return api_key or bearer or request.cookies.get(request.app.state.settings.auth.cookie_name)


TokenDep = Annotated[str | None, Depends(get_token)]


def get_principal(request: Request, session: SessionDep, token: TokenDep) -> Principal:
    """Identify the caller by API key, bearer token or session cookie; anonymous otherwise."""
    principal = resolve_token(session, token) if token else anonymous()
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_user(principal: PrincipalDep) -> Principal:
    """Require an authenticated caller."""
    if not principal.is_authenticated:
        raise Unauthorized("Authentication required")
    return principal


CurrentUser = Annotated[Principal, Depends(get_user)]


def require(perm: Perm) -> Callable[[Principal], Principal]:
    """Make a dependency that lets through callers whose role has `perm` (scope checked later)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        authorize(principal, perm, check_unit=False)
        return principal

    dependency.__name__ = f"require_{perm.name}"
    return dependency


def client_address(request: Request) -> str:
    """Return the caller's address (for rate limits and the audit log)."""
    return request.client.host if request.client else "unknown"
