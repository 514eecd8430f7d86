"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from cityops.alerts.notify.choices import Channel, DeliveryStatus, Preset

Severity = Literal["critical", "major", "minor", "warning", "info"]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


# --- in-app feed ---------------------------------------------------------------------------


class NotificationPublic(BaseModel):
    """One message of the caller's in-app feed."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    severity: str | None
    unit_id: int | None
    subject_vi: str
    subject_en: str
    body_vi: str
    body_en: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    """A page of the caller's feed, newest first, with the unread count."""

    items: list[NotificationPublic]
    total: int
    unread: int


class UnreadCount(BaseModel):
    """How many messages the caller has not read."""

    unread: int


# --- preferences ---------------------------------------------------------------------------


class PreferenceBase(BaseModel):
    """What a user wants to hear about, over which channels, and when not."""

    severities: list[Severity] = Field(
        default_factory=lambda: ["critical", "major"],
        description="Severities to be told about (explicitly addressed messages always come)",
    )
    unit_code: str | None = Field(
        None, description="Only this unit's subtree (inside your own scope); unset: your scope"
    )
    channels: list[Channel] = Field(default_factory=lambda: [Channel.in_app])
    topics: list[str] | None = Field(
        None,
        description="Topic prefixes, e.g. 'alerts.'; unset: all (addressed messages always come)",
    )
    quiet_start: str | None = Field(
        None, pattern=HHMM, description="Start of quiet hours, Asia/Ho_Chi_Minh time (HH:MM)"
    )
    quiet_end: str | None = Field(None, pattern=HHMM, description="End of quiet hours (HH:MM)")
    language: Literal["vi", "en"] = "vi"
    email: EmailStr | None = Field(None, description="E-mail address (unset: your account's)")
    webhook_id: int | None = Field(None, description="A webhook target managed by the admins")
    webhook_recipient: str | None = Field(
        None, max_length=200, description="Chat id, Zalo user id or phone number at that target"
    )


class PreferenceUpdate(PreferenceBase):
    """The caller's new preferences (replaces the old ones)."""


class PreferencePublic(PreferenceBase):
    """The caller's preferences (defaults when never saved)."""

    saved: bool


# --- webhooks ------------------------------------------------------------------------------


class WebhookBase(BaseModel):
    """A webhook endpoint that receives a JSON body rendered from a template."""

    name: str = Field(min_length=1, max_length=200)
    preset: Preset = Preset.generic
    url: str = Field(min_length=8, max_length=1000, pattern=r"^https?://")
    template: str | None = Field(
        None,
        max_length=20_000,
        description="Jinja2 template of the JSON body (sandboxed); unset: the preset's",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers, e.g. an access token"
    )
    is_active: bool = True


class WebhookCreate(WebhookBase):
    """A new webhook target."""


class WebhookUpdate(BaseModel):
    """Changes to a webhook target (only the fields given)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    preset: Preset | None = None
    url: str | None = Field(None, min_length=8, max_length=1000, pattern=r"^https?://")
    template: str | None = Field(None, max_length=20_000)
    headers: dict[str, str] | None = None
    is_active: bool | None = None


class WebhookPublic(BaseModel):
    """A webhook target (header values are hidden: they often hold tokens)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    preset: str
    url: str
    template: str
    header_names: list[str]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class WebhookList(BaseModel):
    """Every webhook target."""

    items: list[WebhookPublic]
    total: int


# --- deliveries ----------------------------------------------------------------------------


class DeliveryPublic(BaseModel):
    """One e-mail or webhook delivery and its retry state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: Channel
    user_id: int | None
    webhook_id: int | None
    recipient: str | None
    topic: str
    severity: str | None
    subject: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryList(BaseModel):
    """A page of deliveries."""

    items: list[DeliveryPublic]
    total: int
