"""Request and response bodies of the incidents and SOP-template API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cityops.alerts.incidents.choices import Hazard, Status, TaskStatus

Severity = Literal["critical", "major", "minor", "warning", "info"]
CODE = r"^[A-Za-z0-9_.\-]{1,40}$"


# --- SOP templates -------------------------------------------------------------------------


class ChecklistItem(BaseModel):
    """One thing to tick off in a step."""

    vi: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)


class SopStep(BaseModel):
    """One step of a procedure: who does it, how soon, and its checklist."""

    title_vi: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    owner_role: Literal["operator", "unit_operator", "agency_staff", "leader"] | None = None
    owner_agency_code: str | None = Field(None, max_length=64)
    due_minutes: int | None = Field(None, ge=0, le=60 * 24 * 30)
    checklist: list[ChecklistItem] = Field(default_factory=list)


class SopBase(BaseModel):
    """Fields every SOP template has."""

    name_vi: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    hazard: Hazard
    description_vi: str = ""
    description_en: str = ""
    steps: list[SopStep] = Field(min_length=1, max_length=100)


class SopCreate(SopBase):
    """A new SOP template."""

    code: str = Field(pattern=CODE)


class SopUpdate(BaseModel):
    """Changes to a template (only the fields given); each change makes a new version."""

    name_vi: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    hazard: Hazard | None = None
    description_vi: str | None = None
    description_en: str | None = None
    steps: list[SopStep] | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None


class SopPublic(SopBase):
    """An SOP template and its current version."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    version: int
    is_active: bool
    updated_at: datetime


class SopList(BaseModel):
    """SOP templates."""

    items: list[SopPublic]
    total: int


# --- incidents -----------------------------------------------------------------------------


class IncidentBase(BaseModel):
    """Fields an operator sets on an incident."""

    title_vi: str | None = Field(None, min_length=1, max_length=300)
    title_en: str | None = Field(None, min_length=1, max_length=300)
    description: str = Field("", max_length=10_000)
    severity: Severity | None = None
    hazard: Hazard | None = None


class IncidentCreate(IncidentBase):
    """Promote one or several alerts to an incident (titles default to the first alert's)."""

    alert_ids: list[int] = Field(min_length=1, max_length=100)
    sop_code: str | None = Field(None, description="SOP template whose steps become tasks")
    commander_id: int | None = Field(None, description="User leading the response")


class PromoteBody(IncidentBase):
    """Promote this alert to an incident."""

    sop_code: str | None = None
    commander_id: int | None = None


class IncidentUpdate(BaseModel):
    """Changes to an incident (only the fields given)."""

    title_vi: str | None = Field(None, min_length=1, max_length=300)
    title_en: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=10_000)
    severity: Severity | None = None
    commander_id: int | None = None


class StatusMove(BaseModel):
    """Move an incident to another status, with a note (kept in the timeline)."""

    status: Status
    note: str = Field("", max_length=5000)


class LinkAlerts(BaseModel):
    """Link more alerts to an incident."""

    alert_ids: list[int] = Field(min_length=1, max_length=100)


class ApplySop(BaseModel):
    """Apply an SOP template to an incident that has none yet."""

    sop_code: str


class ChecklistState(BaseModel):
    """One checklist item of a task and whether it is ticked."""

    vi: str
    en: str
    done: bool = False


class TaskCreate(BaseModel):
    """An extra task, outside the SOP."""

    title_vi: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    owner_agency_code: str | None = None
    owner_user_id: int | None = None
    due_at: datetime | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)


class TaskUpdate(BaseModel):
    """Changes to a task: status, owner, deadline, ticks (only the fields given)."""

    status: TaskStatus | None = None
    owner_agency_code: str | None = None
    owner_user_id: int | None = None
    due_at: datetime | None = None
    checklist_done: list[bool] | None = Field(None, description="Ticks, one per checklist item")
    note: str | None = Field(None, max_length=5000)


class TaskPublic(BaseModel):
    """One task of an incident."""

    id: int
    position: int
    title_vi: str
    title_en: str
    owner_role: str | None
    owner_agency_code: str | None
    owner_user_id: int | None
    due_at: datetime | None
    overdue: bool
    status: TaskStatus
    checklist: list[ChecklistState]
    note: str
    started_at: datetime | None
    finished_at: datetime | None


class AlertRef(BaseModel):
    """A linked alert, as the incident shows it."""

    id: int
    title_vi: str
    title_en: str
    severity: str
    status: str


class IncidentPublic(BaseModel):
    """An incident with its linked alerts and tasks."""

    code: str
    title_vi: str
    title_en: str
    description: str
    severity: str
    status: Status
    status_label_vi: str
    status_label_en: str
    status_colour: str
    hazard: str | None
    unit_code: str | None
    unit_name: str | None
    commander_id: int | None
    sop_code: str | None
    sop_version: int | None
    detected_at: datetime
    opened_at: datetime
    responding_at: datetime | None
    contained_at: datetime | None
    closed_at: datetime | None
    alerts: list[AlertRef]
    tasks: list[TaskPublic]


class IncidentList(BaseModel):
    """A page of incidents."""

    items: list[IncidentPublic]
    total: int


class TimelineEntry(BaseModel):
    """One line of the timeline."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


class CommentCreate(BaseModel):
    """A note on an incident."""

    body: str = Field(min_length=1, max_length=10_000)


class CommentPublic(BaseModel):
    """A note on an incident."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    author: str
    body: str


class AttachmentPublic(BaseModel):
    """A file attached to an incident."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    uploaded_by: str
