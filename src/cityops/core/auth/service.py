"""Logins, sessions, API keys and turning a credential into a Principal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from cityops.core.auth.models import ApiKey, AuthSession, LoginFailure, User
from cityops.core.auth.passwords import (
    API_KEY_PREFIX,
    DUMMY_HASH,
    digest,
    new_api_key,
    new_token,
    verify_password,
)
from cityops.core.config import AuthSettings
from cityops.core.db import utcnow
from cityops.core.errors import TooManyRequests, Unauthorized
from cityops.core.policy import ANONYMOUS, Principal, Role
from cityops.core.units.service import unit_path

API_KEY_TOUCH_SECONDS = 60
_CHANGED = "cityops.credentials_changed"
_generation = 0


def credentials_generation() -> int:
    """Return a number that grows whenever a credential is revoked (caches compare it)."""
    return _generation


def credentials_changed(session: Session) -> None:
    """Say that this transaction revokes or changes a credential: once it commits, cached
    principals of this process stop being used."""
    session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump_generation(session: Session) -> None:
    global _generation
    if session.info.pop(_CHANGED, False):
        _generation += 1


def principal_for_user(session: Session, user: User) -> Principal:
    """Build the Principal of a user."""
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        unit_id=user.unit_id,
        unit_path=unit_path(session, user.unit_id),
        agency_id=user.agency_id,
    )


def principal_for_key(session: Session, key: ApiKey) -> Principal:
    """Build the Principal of an API key."""
    return Principal(
        kind="api_key",
        id=key.id,
        name=key.name,
        role=Role(key.role),
        unit_id=key.unit_id,
        unit_path=unit_path(session, key.unit_id),
        agency_id=key.agency_id,
    )


def check_login_rate(session: Session, cfg: AuthSettings, username: str, client: str) -> None:
    """Refuse a login attempt when this user name or client failed too often lately."""
    since = utcnow() - timedelta(minutes=cfg.login_window_minutes)
    by_user = session.scalar(
        select(func.count()).where(LoginFailure.username == username, LoginFailure.at >= since)
    )
    by_client = session.scalar(
        select(func.count()).where(LoginFailure.client == client, LoginFailure.at >= since)
    )
    if (by_user or 0) >= cfg.login_max_failures or (by_client or 0) >= cfg.login_max_failures * 4:
        raise TooManyRequests(
            f"Too many failed logins; try again in {cfg.login_window_minutes:g} minutes",
            code="login_rate_limited",
        )


def authenticate(
    session: Session, cfg: AuthSettings, username: str, password: str, client: str
) -> User:
    """Check a user name and password (rate-limited); record failures; return the user."""
    check_login_rate(session, cfg, username, client)
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if not user or not ok or not user.is_active:
        session.add(LoginFailure(username=username[:100], client=client[:100]))
        session.commit()
        raise Unauthorized("Wrong user name or password", code="bad_credentials")
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    user.last_login_at = utcnow()
    return user


def open_session(session: Session, cfg: AuthSettings, user: User, client: str | None) -> str:
    """Start a login session; return its token (used as cookie and as bearer token)."""
    token = new_token()
    session.add(
        AuthSession(
            token_hash=digest(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=cfg.session_hours),
            client=(client or "")[:200],
        )
    )
    return token


def close_session(session: Session, token: str) -> None:
    """Revoke the login session that owns this token."""
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == digest(token)))
    if row and row.revoked_at is None:
        row.revoked_at = utcnow()
        credentials_changed(session)


def create_api_key(
    session: Session,
    *,
    name: str,
    role: Role,
    unit_id: int | None,
    agency_id: int | None,
    created_by: str,
    expires_days: float | None = None,
) -> tuple[ApiKey, str]:
    """Make an API key; return the row and the key itself (shown once, stored hashed)."""
    key, prefix = new_api_key()
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=digest(key),
        role=role.value,
        unit_id=unit_id,
        agency_id=agency_id,
        created_by=created_by,
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(row)
    session.flush()
    return row, key


def resolve_token(session: Session, token: str) -> Principal:
    """Turn a bearer token, cookie value or API key into a Principal (401 if invalid)."""
    now = utcnow()
    if token.startswith(API_KEY_PREFIX):
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(token)))
        if key is None or key.revoked_at is not None or (key.expires_at and key.expires_at < now):
            raise Unauthorized("Invalid, revoked or expired API key", code="bad_api_key")
        if (
            key.last_used_at is None
            or (now - key.last_used_at).total_seconds() > API_KEY_TOUCH_SECONDS
        ):
            key.last_used_at = now
            session.commit()
        return principal_for_key(session, key)
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at < now:
        raise Unauthorized("Session expired or invalid; log in again", code="bad_token")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account disabled", code="account_disabled")
    return principal_for_user(session, user)


def anonymous() -> Principal:
    """Return the anonymous principal (public endpoints)."""
    return ANONYMOUS
