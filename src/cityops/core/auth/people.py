"""Users, agencies and API keys: admin operations, scoped and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core import audit
from cityops.core.auth import schemas as s
from cityops.core.auth.models import Agency, ApiKey, AuthSession, User
from cityops.core.auth.passwords import hash_password
from cityops.core.auth.service import create_api_key, credentials_changed
from cityops.core.db import utcnow
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import ROLE_LABELS, Perm, Principal, Role, authorize, scope_filter
from cityops.core.units.models import Unit
from cityops.core.units.service import unit_path


def _unit(session: Session, code: str | None) -> Unit | None:
    if code is None:
        return None
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise InvalidInput(f"Unknown unit code {code!r}", code="unknown_unit")
    return unit


def _agency(session: Session, code: str | None) -> Agency | None:
    if code is None:
        return None
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise InvalidInput(f"Unknown agency code {code!r}", code="unknown_agency")
    return agency


def _unit_code(session: Session, unit_id: int | None) -> str | None:
    return None if unit_id is None else session.scalar(select(Unit.code).where(Unit.id == unit_id))


def _check_scope_target(principal: Principal, perm: Perm, unit: Unit | None) -> None:
    """A scoped admin may only grant scopes inside their own subtree."""
    if unit is None and principal.unit_path is not None:
        raise InvalidInput("Choose a unit inside your own scope", code="scope_required")
    authorize(principal, perm, unit.path if unit else None, hide=False)


# --- agencies -------------------------------------------------------------------------------


def agency_public(session: Session, agency: Agency) -> s.AgencyPublic:
    """Render an agency."""
    return s.AgencyPublic(
        id=agency.id,
        code=agency.code,
        name=agency.name,
        name_en=agency.name_en,
        unit_code=_unit_code(session, agency.unit_id) or "",
        email=agency.email,
        phone=agency.phone,
        is_active=agency.is_active,
    )


def list_agencies(
    session: Session,
    principal: Principal,
    *,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> s.AgencyList:
    """List agencies in the caller's scope."""
    query = (
        select(Agency)
        .join(Unit, Unit.id == Agency.unit_id)
        .where(scope_filter(principal, Unit.path))
    )
    if q:
        query = query.where(Agency.name.ilike(f"%{q}%") | Agency.code.ilike(f"%{q}%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Agency.code).limit(limit).offset(offset)).all()
    return s.AgencyList(items=[agency_public(session, a) for a in rows], total=total)


def get_agency(session: Session, principal: Principal, code: str) -> Agency:
    """Fetch an agency the caller may see (404 otherwise)."""
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"No agency {code!r}")
    unit = session.get(Unit, agency.unit_id)
    authorize(principal, Perm.agencies_read, unit.path if unit else None)
    return agency


def create_agency(session: Session, principal: Principal, data: s.AgencyCreate) -> Agency:
    """Create an agency (admin)."""
    unit = _unit(session, data.unit_code)
    _check_scope_target(principal, Perm.agencies_write, unit)
    if session.scalar(select(Agency.id).where(Agency.code == data.code)):
        raise Conflict(f"Agency code {data.code!r} already exists", code="duplicate_code")
    agency = Agency(
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        unit_id=unit.id if unit else None,
        email=data.email,
        phone=data.phone,
    )
    session.add(agency)
    session.flush()
    audit.record(
        session,
        principal,
        "agency.create",
        "agency",
        agency.id,
        after=audit.snapshot(agency),
        unit_id=agency.unit_id,
    )
    return agency


def update_agency(
    session: Session, principal: Principal, code: str, data: s.AgencyUpdate
) -> Agency:
    """Change an agency (admin)."""
    agency = get_agency(session, principal, code)
    authorize(principal, Perm.agencies_write, unit_path(session, agency.unit_id), hide=False)
    before = audit.snapshot(agency)
    changes = data.model_dump(exclude_unset=True)
    if "unit_code" in changes:
        unit = _unit(session, changes.pop("unit_code"))
        _check_scope_target(principal, Perm.agencies_write, unit)
        agency.unit_id = unit.id if unit else agency.unit_id
    for key, value in changes.items():
        setattr(agency, key, value)
    session.flush()
    audit.record(
        session,
        principal,
        "agency.update",
        "agency",
        agency.id,
        before=before,
        after=audit.snapshot(agency),
        unit_id=agency.unit_id,
    )
    return agency


# --- users ----------------------------------------------------------------------------------


def user_public(session: Session, user: User) -> s.UserPublic:
    """Render a user (without the password hash)."""
    role = Role(user.role)
    agency_code = (
        session.scalar(select(Agency.code).where(Agency.id == user.agency_id))
        if user.agency_id
        else None
    )
    return s.UserPublic(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        role=role,
        role_label_vi=ROLE_LABELS[role][0],
        role_label_en=ROLE_LABELS[role][1],
        unit_code=_unit_code(session, user.unit_id),
        agency_code=agency_code,
        language=user.language,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def list_users(
    session: Session,
    principal: Principal,
    *,
    role: Role | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> s.UserList:
    """List users in the caller's scope (admin)."""
    authorize(principal, Perm.users_manage, check_unit=False)
    query = (
        select(User)
        .outerjoin(Unit, Unit.id == User.unit_id)
        .where(scope_filter(principal, Unit.path))
    )
    if role:
        query = query.where(User.role == role.value)
    if q:
        query = query.where(User.username.ilike(f"%{q}%") | User.full_name.ilike(f"%{q}%"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(User.username).limit(limit).offset(offset)).all()
    return s.UserList(items=[user_public(session, u) for u in rows], total=total)


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    """Fetch a user the caller may manage (404 otherwise)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}")
    authorize(principal, Perm.users_manage, unit_path(session, user.unit_id))
    return user


def _check_role_fields(role: Role, unit: Unit | None, agency: Agency | None) -> None:
    if role is Role.agency_staff and agency is None:
        raise InvalidInput("agency_staff users need an agency_code", code="agency_required")
    if role is Role.unit_operator and unit is None:
        raise InvalidInput(
            "unit_operator users need a unit_code (their subtree)", code="scope_required"
        )


def create_user(session: Session, principal: Principal, data: s.UserCreate) -> User:
    """Create a user with a role and scope (admin)."""
    unit, agency = _unit(session, data.unit_code), _agency(session, data.agency_code)
    _check_scope_target(principal, Perm.users_manage, unit)
    _check_role_fields(data.role, unit, agency)
    if session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(f"User name {data.username!r} is taken", code="duplicate_username")
    user = User(
        username=data.username,
        full_name=data.full_name,
        email=data.email,
        password_hash=hash_password(data.password),
        role=data.role.value,
        unit_id=unit.id if unit else None,
        agency_id=agency.id if agency else None,
        language=data.language,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        principal,
        "user.create",
        "user",
        user.id,
        after=audit.snapshot(user),
        unit_id=user.unit_id,
    )
    return user


def update_user(session: Session, principal: Principal, user_id: int, data: s.UserUpdate) -> User:
    """Change a user's role, scope, details, status or password (admin)."""
    user = get_user(session, principal, user_id)
    before = audit.snapshot(user)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "unit_code" in changes:
        unit = _unit(session, changes.pop("unit_code"))
        _check_scope_target(principal, Perm.users_manage, unit)
        user.unit_id = unit.id if unit else None
    if "agency_code" in changes:
        agency = _agency(session, changes.pop("agency_code"))
        user.agency_id = agency.id if agency else None
    if "role" in changes:
        user.role = Role(changes.pop("role")).value
    if changes.get("password"):
        user.password_hash = hash_password(changes.pop("password"))
    changes.pop("password", None)
    for key, value in changes.items():
        setattr(user, key, value)
    _check_role_fields(
        Role(user.role),
        session.get(Unit, user.unit_id) if user.unit_id else None,
        session.get(Agency, user.agency_id) if user.agency_id else None,
    )
    if (
        user.id == principal.id
        and principal.kind == "user"
        and (user.role != Role.admin.value or not user.is_active)
    ):
        raise InvalidInput("You cannot demote or disable yourself", code="self_lockout")
    if (
        not user.is_active
        or "role" in data.model_fields_set
        or "unit_code" in data.model_fields_set
    ):
        _revoke_sessions(session, user.id)
    session.flush()
    audit.record(
        session,
        principal,
        "user.update",
        "user",
        user.id,
        before=before,
        after=audit.snapshot(user),
        unit_id=user.unit_id,
    )
    return user


def _revoke_sessions(session: Session, user_id: int) -> None:
    for row in session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    ):
        row.revoked_at = utcnow()
    credentials_changed(session)


# --- API keys -------------------------------------------------------------------------------


def api_key_public(session: Session, key: ApiKey) -> s.ApiKeyPublic:
    """Render an API key's metadata."""
    return s.ApiKeyPublic(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=Role(key.role),
        unit_code=_unit_code(session, key.unit_id),
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def issue_api_key(session: Session, principal: Principal, data: s.ApiKeyCreate) -> s.ApiKeyCreated:
    """Create an API key (admin); the key is returned once."""
    unit, agency = _unit(session, data.unit_code), _agency(session, data.agency_code)
    _check_scope_target(principal, Perm.apikeys_manage, unit)
    _check_role_fields(data.role, unit, agency)
    row, key = create_api_key(
        session,
        name=data.name,
        role=data.role,
        unit_id=unit.id if unit else None,
        agency_id=agency.id if agency else None,
        created_by=principal.actor,
        expires_days=data.expires_days,
    )
    audit.record(
        session,
        principal,
        "api_key.create",
        "api_key",
        row.id,
        after=audit.snapshot(row),
        unit_id=row.unit_id,
    )
    return s.ApiKeyCreated(**api_key_public(session, row).model_dump(), key=key)


def list_api_keys(session: Session, principal: Principal) -> list[s.ApiKeyPublic]:
    """List API keys in the caller's scope (admin)."""
    authorize(principal, Perm.apikeys_manage, check_unit=False)
    query = (
        select(ApiKey)
        .outerjoin(Unit, Unit.id == ApiKey.unit_id)
        .where(scope_filter(principal, Unit.path))
    )
    return [api_key_public(session, k) for k in session.scalars(query.order_by(ApiKey.id))]


def revoke_api_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    """Revoke an API key (admin); it stops working at once."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}")
    authorize(principal, Perm.apikeys_manage, unit_path(session, key.unit_id))
    before = audit.snapshot(key)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        credentials_changed(session)
    audit.record(
        session,
        principal,
        "api_key.revoke",
        "api_key",
        key.id,
        before=before,
        after=audit.snapshot(key),
        unit_id=key.unit_id,
    )
    return key
