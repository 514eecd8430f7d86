"""Pydantic schemas of the indicators API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cityops.modules.indicators.choices import Aggregation, Frequency, Status


class IndicatorBase(BaseModel):
    """Fields shared by every shape of an indicator."""

    name_vi: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    unit_of_measure: str = Field(min_length=1, max_length=60)
    group: str | None = Field(default=None, max_length=100)
    frequency: Frequency = Frequency.monthly
    aggregation: Aggregation = Aggregation.sum
    weight_code: str | None = Field(default=None, max_length=40)
    cumulative: bool = False
    higher_is_better: bool = True
    agency_code: str | None = Field(default=None, max_length=64)
    deadline_day: int = Field(default=10, ge=1, le=28)
    description: str | None = None
    sort_order: int = 0


class IndicatorCreate(IndicatorBase):
    """What an administrator sends to add an indicator to the catalogue."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")


class IndicatorUpdate(BaseModel):
    """A partial change to an indicator (its code never changes)."""

    name_vi: str | None = Field(default=None, min_length=1, max_length=300)
    name_en: str | None = None
    unit_of_measure: str | None = Field(default=None, min_length=1, max_length=60)
    group: str | None = None
    aggregation: Aggregation | None = None
    weight_code: str | None = None
    cumulative: bool | None = None
    higher_is_better: bool | None = None
    agency_code: str | None = None
    deadline_day: int | None = Field(default=None, ge=1, le=28)
    description: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None


class IndicatorPublic(IndicatorCreate):
    """An indicator as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    is_active: bool


class IndicatorList(BaseModel):
    """A list of indicators."""

    items: list[IndicatorPublic]
    total: int


class TargetPut(BaseModel):
    """A yearly target for one unit."""

    unit_code: str
    year: int = Field(ge=2000, le=2100)
    value: float
    note: str | None = Field(default=None, max_length=300)


class TargetPublic(TargetPut):
    """A yearly target as the API shows it."""


class ValuePut(BaseModel):
    """A value for one unit and period (a new revision if one exists)."""

    unit_code: str
    period: str
    value: float
    source: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=500)


class ValuePublic(ValuePut):
    """One stored revision of a value."""

    revision: int
    is_current: bool
    entered_by: str
    entered_at: datetime


class ValueList(BaseModel):
    """Stored values (current ones, or every revision with history=true)."""

    items: list[ValuePublic]
    total: int


class SeriesPoint(BaseModel):
    """The value of a period: stored for the unit, or computed from its children."""

    period: str
    value: float | None
    computed: bool


class Series(BaseModel):
    """An indicator's values over time for one unit."""

    indicator: str
    unit_code: str
    points: list[SeriesPoint]


class Standing(BaseModel):
    """An indicator's value, target, progress and status for one unit and period."""

    indicator: str
    name_vi: str
    name_en: str | None
    unit_of_measure: str
    unit_code: str
    period: str
    value: float | None
    computed: bool
    year_to_date: float | None
    target: float | None
    pro_rata_target: float | None
    percent: float | None
    status: Status
    status_label_vi: str
    status_label_en: str
    colour: str


class Dashboard(BaseModel):
    """Every active indicator's standing for one unit and period."""

    unit_code: str
    period: str
    items: list[Standing]


class Children(BaseModel):
    """The standings of a unit's children for one indicator (drill-down)."""

    unit_code: str
    items: list[Standing]


class RowError(BaseModel):
    """Why one row of an upload was refused."""

    row: int
    column: str | None
    message: str


class ImportResult(BaseModel):
    """What an upload did: rows stored, blank rows skipped, refused rows with reasons."""

    imported: int
    skipped: int
    errors: list[RowError]
