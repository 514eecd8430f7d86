"""Pydantic schemas of the public-services API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cityops.modules.public_services.choices import Channel, DossierStatus

LOCAL_NOTE = "ISO 8601; a time without an offset is read as local time (UTC+7 by default)."


class DossierBase(BaseModel):
    """Fields shared by every shape of a dossier."""

    procedure_code: str = Field(min_length=1, max_length=60)
    agency_code: str = Field(min_length=1, max_length=64)
    unit_code: str = Field(min_length=1, max_length=32)
    received_at: datetime = Field(description=LOCAL_NOTE)
    due_at: datetime | None = Field(default=None, description=LOCAL_NOTE)
    finished_at: datetime | None = Field(default=None, description=LOCAL_NOTE)
    channel: Channel
    status: DossierStatus
    fee_vnd: int | None = Field(default=None, ge=0)
    online_payment: bool = False
    returned: bool = False
    additional_request: bool = False
    digitised: bool = False


class DossierCreate(DossierBase):
    """One dossier as the one-stop system sends it (sent again: an update, never a copy)."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=80)
    source: str = Field(default="api", min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")
    procedure_name: str | None = Field(default=None, max_length=500)
    procedure_field: str | None = Field(default=None, max_length=200)
    procedure_level: str | None = Field(default=None, max_length=20)


class DossierPublic(DossierBase):
    """A dossier as the API shows it."""

    source: str
    external_id: str
    procedure_name: str
    agency_name: str
    unit_name: str
    updated_at: datetime


class DossierList(BaseModel):
    """A page of dossiers."""

    items: list[DossierPublic]
    total: int


class DossierBatch(BaseModel):
    """A batch of dossiers; each item is checked on its own (bad ones come back, good ones land)."""

    items: list[dict] = Field(max_length=5000)


class RowError(BaseModel):
    """Why one row or item was refused."""

    row: int
    external_id: str | None = None
    column: str | None = None
    message: str


class IntakeResult(BaseModel):
    """What a batch or an upload did."""

    created: int
    updated: int
    unchanged: int
    errors: list[RowError]


class Counters(BaseModel):
    """The one-stop counters for a period, a unit and (optionally) an agency."""

    period: str
    unit_code: str
    agency_code: str | None
    as_of: datetime
    received: int
    carried_over: int
    to_process: int
    in_progress: int
    in_progress_late: int
    in_progress_near_late: int
    in_progress_not_due: int
    processed: int
    processed_early: int
    processed_on_time: int
    processed_late: int
    on_time_rate: float | None
    online_rate: float | None
    online_payment_rate: float | None
    returned_rate: float | None
    additional_request_rate: float | None
    digitised_rate: float | None
    average_processing_days: float | None


class NearDueItem(BaseModel):
    """A dossier in progress that is late or about to be."""

    source: str
    external_id: str
    procedure_code: str
    procedure_name: str
    agency_code: str
    unit_code: str
    received_at: datetime
    due_at: datetime
    late: bool
    hours_left: float


class NearDueList(BaseModel):
    """Dossiers in progress, late first, then by due time."""

    items: list[NearDueItem]
    total: int


class IndexGroupScore(BaseModel):
    """One component of the Decision 766 index."""

    key: str
    label_vi: str
    label_en: str
    points: float
    rate: float | None
    score: float | None
    source: str


class Index766(BaseModel):
    """The Decision 766 index for a period and unit (components without data score None)."""

    period: str
    unit_code: str
    groups: list[IndexGroupScore]
    total: float | None
    scored_points: float
    note: str


class ProcedureStat(BaseModel):
    """Dossiers of one procedure processed in the period."""

    procedure_code: str
    procedure_name: str
    field: str | None
    processed: int
    processed_late: int
    on_time_rate: float | None
    average_processing_days: float | None


class ProcedureStats(BaseModel):
    """Per-procedure figures (slowest first)."""

    period: str
    unit_code: str
    items: list[ProcedureStat]
