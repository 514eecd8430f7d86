"""Request and response bodies of the alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["threshold", "rate_of_change", "absence", "count_window", "event", "geofence"]
Severity = Literal["critical", "major", "minor", "warning", "info"]
Action = Literal[
    "acknowledge", "assign", "start", "comment", "escalate", "resolve", "clear", "close", "reopen"
]


class RuleParams(BaseModel):
    """The kind-specific part of a rule (only the fields its kind uses are read)."""

    entity_type: str | None = Field(None, description="Entity type, e.g. FloodMonitoring")
    condition: str | None = Field(
        None, description="threshold: `attr op value|attr` joined by `;`, e.g. level>alertLevel1"
    )
    q: str | None = Field(None, description='NGSI-LD q filter on the entity, e.g. status=="ok"')
    for_seconds: float = Field(0, ge=0, description="threshold: how long it must hold")
    attribute: str | None = Field(
        None,
        description="rate_of_change: the attribute watched; absence: the one whose updates "
        "count as signs of life (unset: any change)",
    )
    delta: float | None = Field(None, description="rate_of_change: change that fires (+rise/-fall)")
    window_seconds: float | None = Field(None, gt=0, description="rate/count: window length")
    silence_seconds: float | None = Field(None, gt=0, description="absence: silence that fires")
    event_name: str | None = Field(None, description="event/count_window: bus event name")
    filter: dict[str, Any] = Field(
        default_factory=dict, description="event/count_window: field -> value (or list of values)"
    )
    count: int | None = Field(None, ge=2, description="count_window: events that fire")
    radius_m: float | None = Field(None, gt=0, description="count_window: cluster radius")
    fence: dict[str, Any] | None = Field(None, description="geofence: a GeoJSON Polygon")
    fence_unit_id: int | None = Field(None, description="geofence: an administrative unit")
    transition: Literal["enter", "leave"] | None = Field(None, description="geofence: which")


class RuleBase(RuleParams):
    """Fields every rule has."""

    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    severity: Severity
    enabled: bool = True
    public: bool = Field(False, description="Publish its alerts in the CAP feed")
    auto_clear: bool = Field(False, description="Clear the alert when the condition is normal")
    unit_id: int | None = Field(None, description="Only sources in this unit's subtree")
    title_vi: str = Field(min_length=1, max_length=300, description="Template, e.g. {entity}")
    title_en: str = Field(min_length=1, max_length=300)
    description: str | None = None


class RuleCreate(RuleBase):
    """A new rule."""


class RuleUpdate(BaseModel):
    """Changes to a rule (the fields given); any change makes a new version."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    severity: Severity | None = None
    enabled: bool | None = None
    public: bool | None = None
    auto_clear: bool | None = None
    unit_id: int | None = None
    title_vi: str | None = Field(None, min_length=1, max_length=300)
    title_en: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None
    params: RuleParams | None = Field(None, description="A new kind-specific definition")


class RulePublic(RuleBase):
    """A rule as stored."""

    id: int
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None


class RuleList(BaseModel):
    """A page of rules."""

    items: list[RulePublic]
    total: int


class RuleVersionPublic(BaseModel):
    """One version of a rule's definition."""

    version: int
    definition: dict[str, Any]
    created_at: datetime
    created_by: str | None


class RuleProblem(BaseModel):
    """What is wrong with a rule: which field, what, and where in an expression."""

    field: str
    code: str
    message: str
    position: int | None = None


class RuleValidation(BaseModel):
    """The result of a dry parse."""

    valid: bool
    errors: list[RuleProblem]


class RuleTestHit(BaseModel):
    """A source that would fire now."""

    source_id: str
    unit_id: int | None
    value: dict[str, Any]


class RuleTestBody(BaseModel):
    """A sample event to try an event or count-window rule on (its `data` fields)."""

    event: dict[str, Any] | None = None


class RuleTestResult(BaseModel):
    """Which current entities meet the condition now (durations not waited for)."""

    checked: int
    hits: list[RuleTestHit]


class AlertCreate(BaseModel):
    """A manual alert raised by an operator."""

    severity: Severity
    title_vi: str = Field(min_length=1, max_length=500)
    title_en: str | None = Field(None, max_length=500)
    description: str | None = None
    unit_id: int | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    public: bool = False


class AlertActionBody(BaseModel):
    """Arguments of a lifecycle action (note for all; assignee for assign)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)
    user_id: int | None = None
    agency_id: int | None = None


class AlertEventPublic(BaseModel):
    """One entry of an alert's timeline."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    actor_name: str
    note: str | None
    from_status: str | None
    to_status: str | None
    data: dict[str, Any] | None


class AlertPublic(BaseModel):
    """An alert."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: int | None
    rule_version: int | None
    source_kind: str
    source_id: str
    severity: str
    status: str
    title_vi: str
    title_en: str
    description: str | None
    unit_id: int | None
    lat: float | None
    lon: float | None
    value: dict[str, Any] | None
    public: bool
    assignee_user_id: int | None
    assignee_agency_id: int | None
    raised_at: datetime
    last_triggered_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    trigger_count: int
    escalation_level: int


class AlertDetail(AlertPublic):
    """An alert with its timeline."""

    timeline: list[AlertEventPublic]


class AlertList(BaseModel):
    """A page of alerts."""

    items: list[AlertPublic]
    total: int


class SeverityCount(BaseModel):
    """Alerts of one severity still being handled."""

    value: str
    label_vi: str
    label_en: str
    colour: str
    count: int


class AlertSummary(BaseModel):
    """Alerts still being handled, by severity."""

    by_severity: list[SeverityCount]
    total: int
