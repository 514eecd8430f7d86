"""Evaluate rules on one entity change or one module event, keeping state in alert_rule_state.

Everything here runs inside one database transaction per batch: the rule state and the
alerts it raises or clears commit together, so a restart neither loses nor repeats a firing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from cityops.alerts import writer
from cityops.alerts.compile import CompiledRule
from cityops.alerts.conditions import holds
from cityops.alerts.models import AlertRuleState
from cityops.context.geoquery import haversine_m
from cityops.core.bus import Event

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
MAX_SAMPLES = 200  # rate-of-change samples kept per source
MAX_POINTS = 2000  # count-window points kept per rule
HEARTBEAT_S = 30  # how often an absence rule records that a source is alive


@dataclass
class EntityItem:
    """An entity change, as the engine needs it."""

    entity_id: str
    entity_type: str
    unit_id: int | None
    attrs: dict[str, Any]
    changed: list[str] = field(default_factory=list)  # IRIs of the attributes written


@dataclass
class EventItem:
    """A module event, as the engine needs it."""

    name: str
    data: dict[str, Any]


def short_id(entity_id: str) -> str:
    """Return the last part of an entity id (urn:ngsi-ld:X:hue-1 -> hue-1)."""
    return entity_id.rsplit(":", 1)[-1]


def location(attrs: dict[str, Any]) -> tuple[float | None, float | None]:
    """Return (lat, lon) of an entity's point location, or Nones."""
    geo = (attrs.get(LOCATION) or {}).get("value") or {}
    coords = geo.get("coordinates") if geo.get("type") == "Point" else None
    if isinstance(coords, list) and len(coords) >= 2:
        return float(coords[1]), float(coords[0])
    return None, None


class NeedsWrite(Exception):
    """A read-only pass met something to write: evaluate again holding the write lock."""


@dataclass
class Pass:
    """One transaction's worth of evaluation: the session, the time, and loaded states.

    A `read_only` pass raises NeedsWrite at the first thing it would write (a new state, an
    alert); state rows it changed show in `session.dirty`. Most batches change nothing, so on
    SQLite they never wait for the single write lock the ingest holds.
    """

    session: Session
    now: datetime
    unit_paths: dict[int, str]
    # (rule, source) pairs that have a state row: others need no query (their state is blank)
    known: set[tuple[int, str]] = field(default_factory=set)
    states: dict[tuple[int, str], AlertRuleState] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    read_only: bool = False

    def changed(self) -> bool:
        """Say whether the pass changed any row (to be written by a pass that may write)."""
        return bool(self.session.new or self.session.dirty or self.session.deleted)

    def preload(self, keys: set[tuple[int, str]]) -> None:
        """Load the states of many (rule, source) pairs in one query."""
        wanted = [k for k in keys if k in self.known and k not in self.states]
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            stmt = select(AlertRuleState).where(
                tuple_(AlertRuleState.rule_id, AlertRuleState.source_id).in_(chunk)
            )
            for row in self.session.scalars(stmt):
                self.states[(row.rule_id, row.source_id)] = row

    def state(self, rule_id: int, source_id: str, unit_id: int | None) -> AlertRuleState:
        """Return the state of a rule and source, creating it when new."""
        key = (rule_id, source_id)
        row = self.states.get(key)
        if row is None:
            if self.read_only:
                raise NeedsWrite
            row = AlertRuleState(rule_id=rule_id, source_id=source_id, unit_id=unit_id, data={})
            self.session.add(row)
            self.states[key] = row
            self.known.add(key)
        return row

    def existing(self, rule_id: int, source_id: str) -> AlertRuleState | None:
        """Return the state of a rule and source if it has one (preloaded)."""
        return self.states.get((rule_id, source_id))

    def in_scope(self, rule: CompiledRule, unit_id: int | None) -> bool:
        """Say whether a source's unit lies in the rule's subtree."""
        if rule.unit_path is None:
            return True
        path = self.unit_paths.get(unit_id) if unit_id is not None else None
        return path is not None and path.startswith(rule.unit_path)

    def fire(self, f: writer.Firing) -> None:
        """Raise or re-trigger an alert."""
        if self.read_only:
            raise NeedsWrite
        self.events.append(writer.fire(self.session, f, self.now))

    def clear(self, rule: CompiledRule, source_id: str) -> None:
        """Clear the source's alert when the rule clears automatically."""
        if rule.auto_clear:
            if self.read_only:
                raise NeedsWrite
            event = writer.auto_clear(self.session, rule.id, source_id, self.now)
            if event is not None:
                self.events.append(event)


def _values(rule: CompiledRule, attrs: dict[str, Any]) -> dict[str, Any]:
    return {short: (attrs.get(iri) or {}).get("value") for short, iri in rule.iris.items()}


def _firing(rule: CompiledRule, item: EntityItem, value: dict[str, Any]) -> writer.Firing:
    lat, lon = location(item.attrs)
    words = {"entity": short_id(item.entity_id), "entity_id": item.entity_id}
    return writer.Firing(rule, "entity", item.entity_id, item.unit_id, lat, lon, value, words)


def _set_firing(p: Pass, rule: CompiledRule, st: AlertRuleState, on: bool) -> None:
    st.data = {**st.data, "firing": on}
    st.updated_at = p.now


def _remember(st: AlertRuleState, **data: Any) -> None:
    """Update a state's memory, writing only when something changed."""
    merged = {**st.data, **data}
    if merged != st.data:
        st.data = merged


def threshold(p: Pass, rule: CompiledRule, item: EntityItem) -> None:
    """Condition held for `for_seconds` -> fire; back to normal -> reset (and auto-clear)."""
    values = _values(rule, item.attrs)
    ok = holds(rule.terms, values)
    if ok is None:
        return
    if ok and rule.q is not None:
        ok = rule.q.matches(item.attrs)
    if not ok:
        st = p.existing(rule.id, item.entity_id)
        if st is None:
            return
        if st.pending_since is not None:
            st.pending_since = None
        if st.data.get("firing"):
            _set_firing(p, rule, st, False)
            p.clear(rule, item.entity_id)
        return
    st = p.state(rule.id, item.entity_id, item.unit_id)
    if st.pending_since is None:
        st.pending_since = st.updated_at = p.now
    lat, lon = location(item.attrs)
    _remember(st, value=values, lat=lat, lon=lon)
    due = st.pending_since + timedelta(seconds=float(rule.params.get("for_seconds") or 0))
    if not st.data.get("firing") and due <= p.now:
        _set_firing(p, rule, st, True)
        p.fire(_firing(rule, item, values))


def rate_of_change(p: Pass, rule: CompiledRule, item: EntityItem) -> None:
    """The attribute moved by `delta` or more within `window_seconds` -> fire."""
    attr = rule.params["attribute"]
    value = (item.attrs.get(rule.iris[attr]) or {}).get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if rule.q is not None and not rule.q.matches(item.attrs):
        return
    st = p.state(rule.id, item.entity_id, item.unit_id)
    start = p.now - timedelta(seconds=float(rule.params["window_seconds"]))
    samples = [s for s in st.data.get("samples", []) if datetime.fromisoformat(s[0]) >= start]
    samples = [*samples, [p.now.isoformat(), float(value)]][-MAX_SAMPLES:]
    delta = float(rule.params["delta"])
    change = float(value) - samples[0][1]
    hit = change >= delta if delta >= 0 else change <= delta
    firing = bool(st.data.get("firing"))
    st.data = {**st.data, "samples": samples}
    st.last_seen = st.updated_at = p.now
    if hit and not firing:
        _set_firing(p, rule, st, True)
        p.fire(_firing(rule, item, {attr: value, "change": round(change, 6)}))
    elif not hit and firing:
        _set_firing(p, rule, st, False)
        p.clear(rule, item.entity_id)


def absence(p: Pass, rule: CompiledRule, item: EntityItem) -> None:
    """A reading arrived: the source is alive (clear an offline alert when the rule says so)."""
    sign = rule.params.get("attribute")  # only changes of this attribute count, when given
    if sign and rule.iris[sign] not in item.changed:
        return
    st = p.state(rule.id, item.entity_id, item.unit_id)
    # last_seen is written at most every HEARTBEAT_S: silences are minutes long
    if st.last_seen is None or p.now - st.last_seen >= timedelta(seconds=HEARTBEAT_S):
        st.last_seen = st.updated_at = p.now
    lat, lon = location(item.attrs)
    _remember(st, lat=lat, lon=lon)
    if st.data.get("firing"):
        st.last_seen = p.now
        _set_firing(p, rule, st, False)
        p.clear(rule, item.entity_id)


def geofence(p: Pass, rule: CompiledRule, item: EntityItem) -> None:
    """The entity crossed the fence in the rule's direction -> fire; the other way -> clear."""
    lat, lon = location(item.attrs)
    if lat is None or lon is None or rule.fence is None:
        return
    inside = bool(rule.fence.covers(Point(lon, lat)))
    st = p.state(rule.id, item.entity_id, item.unit_id)
    before = st.data.get("inside")
    st.data = {**st.data, "inside": inside}
    st.last_seen = st.updated_at = p.now
    if before is None or before == inside:
        return
    if inside == (rule.params["transition"] == "enter"):
        p.fire(_firing(rule, item, {"inside": inside, "lat": lat, "lon": lon}))
    else:
        p.clear(rule, item.entity_id)


ENTITY_EVALUATORS = {
    "threshold": threshold,
    "rate_of_change": rate_of_change,
    "absence": absence,
    "geofence": geofence,
}


def passes_filter(rule: CompiledRule, data: dict[str, Any]) -> bool:
    """Say whether an event's fields match the rule's filter (value, or list of values)."""
    for name, wanted in (rule.params.get("filter") or {}).items():
        have = data.get(name)
        if isinstance(wanted, list) and have not in wanted:
            return False
        if not isinstance(wanted, list) and have != wanted:
            return False
    return True


def event_source(data: dict[str, Any], name: str) -> str:
    """Name the source of an event: its first *_id field other than unit_id, else the name."""
    for key, value in data.items():
        if key.endswith("_id") and key not in ("unit_id", "agency_id") and value is not None:
            return f"{key.removesuffix('_id')}:{value}"
    for key in ("indicator", "tracking_code", "entity_id"):
        if data.get(key) is not None:
            return f"{key}:{data[key]}:{data.get('period', '')}".rstrip(":")
    return name


def _event_firing(rule: CompiledRule, item: EventItem, source: str, value: dict[str, Any]):  # noqa: ANN202
    lat, lon = item.data.get("lat"), item.data.get("lon")
    return writer.Firing(
        rule, "event", source, item.data.get("unit_id"), lat, lon, value, dict(item.data)
    )


def event_rule(p: Pass, rule: CompiledRule, item: EventItem) -> None:
    """A matching event -> raise (or re-trigger the active alert of the same source)."""
    source = event_source(item.data, item.name)
    p.fire(_event_firing(rule, item, source, {"event": item.name, **item.data}))


def count_window(p: Pass, rule: CompiledRule, item: EventItem) -> None:
    """`count` matching events within `radius_m` and `window_seconds` -> a cluster alert."""
    lat, lon = item.data.get("lat"), item.data.get("lon")
    if lat is None or lon is None:
        return
    st = p.state(rule.id, "*", None)
    start = p.now - timedelta(seconds=float(rule.params["window_seconds"]))
    ref = event_source(item.data, item.name)
    points = [q for q in st.data.get("points", []) if datetime.fromisoformat(q[0]) >= start]
    points = [*points, [p.now.isoformat(), lat, lon, ref]][-MAX_POINTS:]
    st.data = {**st.data, "points": points}
    st.last_seen = st.updated_at = p.now
    radius = float(rule.params["radius_m"])
    near = [q for q in points if haversine_m(lon, lat, q[2], q[1]) <= radius]
    if len(near) < int(rule.params["count"]):
        return
    c_lat = sum(q[1] for q in near) / len(near)
    c_lon = sum(q[2] for q in near) / len(near)
    value = {"count": len(near), "sources": [q[3] for q in near], "radius_m": radius}
    existing = writer.active_near(p.session, rule.id, c_lat, c_lon, radius)
    source = existing.source_id if existing is not None else f"cluster:{ref}"
    f = writer.Firing(
        rule, "event", source, item.data.get("unit_id"), c_lat, c_lon, value, {"count": len(near)}
    )
    p.events.append(writer.fire(p.session, f, p.now, existing))


EVENT_EVALUATORS = {"event": event_rule, "count_window": count_window}
