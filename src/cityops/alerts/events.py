"""Events the alerts package publishes on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from cityops.core.bus import Event


@dataclass(frozen=True, kw_only=True)
class _AlertEvent(Event):
    """What every alert event carries: enough to show and route the alert without a query."""

    alert_id: int
    severity: str
    status: str
    unit_id: int | None
    title_vi: str
    title_en: str
    lat: float | None
    lon: float | None
    at: str
    rule_id: int | None = None
    public: bool = False
    source_kind: str = ""
    source_id: str = ""


@dataclass(frozen=True, kw_only=True)
class AlertRaised(_AlertEvent):
    """A new alert was raised (by a rule, an operator or CAP intake)."""

    name = "alerts.alert_raised"


@dataclass(frozen=True, kw_only=True)
class AlertUpdated(_AlertEvent):
    """An alert changed: a lifecycle action, a re-trigger, an auto-clear, an assignment."""

    name = "alerts.alert_updated"
    action: str
    from_status: str | None
    to_status: str
    assignee_user_id: int | None = None
    assignee_agency_id: int | None = None
    trigger_count: int = 1


@dataclass(frozen=True, kw_only=True)
class AlertEscalated(_AlertEvent):
    """An alert was escalated (by an operator, or left unacknowledged too long)."""

    name = "alerts.alert_escalated"
    escalation_level: int


EVENT_TYPES: tuple[type[Event], ...] = (AlertRaised, AlertUpdated, AlertEscalated)
