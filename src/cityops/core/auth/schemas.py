"""Pydantic schemas for logins, users, agencies and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from cityops.core.policy import Role


class LoginRequest(BaseModel):
    """User name and password for a login."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenPublic(BaseModel):
    """A bearer token (also set as the session cookie by /api/auth/login)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AgencyBase(BaseModel):
    """Fields an admin sets on an agency."""

    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(None, max_length=300)
    unit_code: str = Field(
        min_length=1, max_length=32, description="Code of the unit it belongs to."
    )
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)


class AgencyCreate(AgencyBase):
    """A new agency."""


class AgencyUpdate(BaseModel):
    """Changes to an agency (only the fields given)."""

    name: str | None = Field(None, min_length=1, max_length=300)
    name_en: str | None = Field(None, max_length=300)
    unit_code: str | None = Field(None, min_length=1, max_length=32)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    is_active: bool | None = None


class AgencyPublic(BaseModel):
    """An agency as the API returns it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    name_en: str | None
    unit_code: str
    email: str | None
    phone: str | None
    is_active: bool


class AgencyList(BaseModel):
    """A page of agencies."""

    items: list[AgencyPublic]
    total: int


class UserBase(BaseModel):
    """Fields an admin sets on a user."""

    username: str = Field(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    full_name: str = Field("", max_length=200)
    email: EmailStr | None = None
    role: Role
    unit_code: str | None = Field(None, description="Scope: the unit whose subtree the user sees.")
    agency_code: str | None = Field(None, description="Agency of agency_staff users.")
    language: str = Field("vi", pattern=r"^(vi|en)$")


class UserCreate(UserBase):
    """A new user with an initial password."""

    password: str = Field(min_length=10, max_length=200)


class UserUpdate(BaseModel):
    """Changes to a user (only the fields given); `password` resets it."""

    full_name: str | None = Field(None, max_length=200)
    email: EmailStr | None = None
    role: Role | None = None
    unit_code: str | None = None
    agency_code: str | None = None
    language: str | None = Field(None, pattern=r"^(vi|en)$")
    is_active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=200)


class UserPublic(BaseModel):
    """A user as the API returns it (never the password hash)."""

    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    role_label_vi: str
    role_label_en: str
    unit_code: str | None
    agency_code: str | None
    language: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserList(BaseModel):
    """A page of users."""

    items: list[UserPublic]
    total: int


class ApiKeyCreate(BaseModel):
    """A new API key for a script or an integrator."""

    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.integrator
    unit_code: str | None = None
    agency_code: str | None = None
    expires_days: float | None = Field(None, gt=0)


class ApiKeyPublic(BaseModel):
    """An API key's metadata (the key itself is shown only once, at creation)."""

    id: int
    name: str
    prefix: str
    role: Role
    unit_code: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """A new API key, with the key itself: store it now, it is not shown again."""

    key: str


class MePublic(BaseModel):
    """Who the caller is and what they may do."""

    kind: str
    id: int | None
    name: str
    role: Role | None
    unit_code: str | None
    agency_id: int | None
    permissions: list[str]
