"""Login, logout and 'who am I'."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from cityops.core.auth import schemas as s
from cityops.core.auth.service import authenticate, close_session, open_session
from cityops.core.deps import CurrentUser, SessionDep, SettingsDep, client_address
from cityops.core.policy import ROLE_PERMISSIONS
from cityops.core.units.models import Unit

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _login(
    session: SessionDep, settings: SettingsDep, request: Request, username: str, password: str
) -> s.TokenPublic:
    client = client_address(request)
    user = authenticate(session, settings.auth, username, password, client)
    token = open_session(session, settings.auth, user, request.headers.get("user-agent", client))
    return s.TokenPublic(access_token=token, expires_in=int(settings.auth.session_hours * 3600))


@router.post("/login")
def login(
    body: s.LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> s.TokenPublic:
    """Log in with user name and password; sets the session cookie and returns a bearer token."""
    token = _login(session, settings, request, body.username, body.password)
    response.set_cookie(
        settings.auth.cookie_name,
        token.access_token,
        max_age=token.expires_in,
        httponly=True,
        samesite="lax",
        secure=settings.auth.cookie_secure,
        path="/",
    )
    return token


@router.post("/token")
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> s.TokenPublic:
    """Get a bearer token with the OAuth2 password flow (what /docs 'Authorize' uses)."""
    return _login(session, settings, request, form.username, form.password)


@router.post("/logout", status_code=204)
def logout(
    request: Request,
    response: Response,
    principal: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> None:
    """End the current login session (cookie or bearer token)."""
    auth = request.headers.get("authorization", "")
    token_value = (
        auth[7:]
        if auth.lower().startswith("bearer ")
        else request.cookies.get(settings.auth.cookie_name)
    )
    if token_value:
        close_session(session, token_value)
    response.delete_cookie(settings.auth.cookie_name, path="/")


@router.get("/me")
def me(principal: CurrentUser, session: SessionDep) -> s.MePublic:
    """Tell the caller who they are, their role, scope and permissions."""
    unit_code = session.get(Unit, principal.unit_id).code if principal.unit_id else None
    perms = sorted(p.value for p in ROLE_PERMISSIONS[principal.role]) if principal.role else []
    return s.MePublic(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        unit_code=unit_code,
        agency_id=principal.agency_id,
        permissions=perms,
    )
