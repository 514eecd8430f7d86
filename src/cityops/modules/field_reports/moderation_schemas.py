"""Schemas of duplicates, follows and blocked reporters."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, model_validator

from cityops.modules.field_reports.schemas import ReportCreate

BlockKind = Literal["phone", "email", "device"]


class PublicReportCreate(ReportCreate):
    """A citizen's report from the public page; `website` is a hidden field people leave empty."""

    website: str | None = Field(
        None, max_length=500, description="Leave empty (a hidden field that catches bots)"
    )


class BlockBase(BaseModel):
    """Why a reporter is blocked and until when (None: until unblocked)."""

    reason: str = Field(min_length=3, max_length=2000)
    expires_at: datetime | None = None


class BlockCreate(BlockBase):
    """Block a reporter by phone number, email address or device id."""

    kind: BlockKind
    value: str = Field(min_length=3, max_length=200)


class BlockUpdate(BaseModel):
    """Change a block's reason or expiry."""

    reason: str | None = Field(None, min_length=3, max_length=2000)
    expires_at: datetime | None = None


class BlockPublic(BlockBase):
    """A block as admins see it."""

    id: int
    kind: BlockKind
    value: str
    active: bool
    created_by: str
    created_at: datetime


class BlockList(BaseModel):
    """A list of blocks."""

    items: list[BlockPublic]
    total: int


class DuplicatePublic(BaseModel):
    """A possible duplicate of a report, with how far and how long apart they are."""

    tracking_code: str
    status: str
    status_label_vi: str
    status_label_en: str
    description: str
    address: str | None
    lat: float
    lon: float
    created_at: datetime
    distance_m: float


class DuplicateList(BaseModel):
    """Possible duplicates, nearest first, and the radius/window searched."""

    items: list[DuplicatePublic]
    radius_m: float
    window_h: float


class NearbyPublic(BaseModel):
    """A verified open report near a citizen's point (no personal data)."""

    tracking_code: str
    category_code: str
    category_name: str
    status: str
    status_label_vi: str
    status_label_en: str
    description: str
    unit_name: str | None
    lat: float
    lon: float
    created_at: datetime
    distance_m: float
    followers: int


class NearbyList(BaseModel):
    """Similar open reports near a point, nearest first."""

    items: list[NearbyPublic]
    radius_m: float


class FollowCreate(BaseModel):
    """Follow a report instead of filing it again: where to send its notices."""

    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    email: EmailStr | None = None
    device_id: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _one_contact(self) -> FollowCreate:
        if not (self.phone or self.email or self.device_id):
            raise ValueError("give a phone number, an email address or a device id")
        return self


class FollowPublic(BaseModel):
    """What following a report recorded."""

    tracking_code: str
    followers: int
    message_vi: str
    message_en: str


class FollowerPublic(BaseModel):
    """Someone who gets a report's notices (contact only for staff who may see reporters)."""

    name: str | None
    phone: str | None
    email: str | None
    from_report: str | None = Field(None, description="The merged duplicate they reported")
    created_at: datetime
