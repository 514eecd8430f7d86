"""Point -> unit lookup: an in-memory STRtree of prepared unit polygons, refreshed on change."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any

import shapely
from shapely import STRtree
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from cityops.core.db import Database
from cityops.core.errors import InvalidInput
from cityops.core.policy import Principal, in_scope
from cityops.core.units.geometry import to_shape
from cityops.core.units.models import Unit

# How long a locator trusts its copy before asking the database whether units changed
# (another process may have written them; writes in this process invalidate at once).
MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True)
class UnitRef:
    """The parts of a unit a lookup reports."""

    id: int
    code: str
    name: str
    level: str
    path: str
    depth: int
    valid_from: date | None = None
    valid_until: date | None = None

    def valid_on(self, day: date) -> bool:
        """Say whether the unit is valid on `day`."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or self.valid_until >= day
        )


@dataclass(frozen=True)
class Location:
    """Which units contain a point: the deepest current one, its chain, and former units."""

    lat: float
    lon: float
    unit: UnitRef | None
    chain: tuple[UnitRef, ...] = ()
    former: tuple[UnitRef, ...] = ()


@dataclass(frozen=True)
class _Snapshot:
    revision: tuple[Any, ...]
    by_id: dict[int, UnitRef]
    refs: tuple[UnitRef, ...] = ()  # units with a polygon, aligned with `geoms`
    geoms: Sequence[Any] = ()
    tree: STRtree | None = None
    units: int = 0
    polygons: int = field(default=0)


def check_point(lat: Any, lon: Any) -> tuple[float, float]:
    """Return (lat, lon) as floats; InvalidInput when they are not a WGS 84 point."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError) as err:
        raise InvalidInput("lat and lon must be numbers", code="invalid_point") from err
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        raise InvalidInput("lat and lon must be finite numbers", code="invalid_point")
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise InvalidInput(
            f"Point out of range: lat must be in [-90, 90] and lon in [-180, 180] "
            f"(got lat={lat_f:g}, lon={lon_f:g})",
            code="invalid_point",
        )
    return lat_f, lon_f


class UnitLocator:
    """Find the units whose polygon contains a point; safe to share between threads."""

    def __init__(self, engine: Engine, max_age: float = MAX_AGE_SECONDS) -> None:
        self.engine = engine
        self.max_age = max_age
        self._snap: _Snapshot | None = None
        self._checked_at = -math.inf
        self._refresh_lock = threading.Lock()
        # GEOS prepared geometries build their point index lazily: guard the lookups.
        self._query_lock = threading.Lock()

    def invalidate(self) -> None:
        """Make the next lookup check the database for changed units."""
        self._checked_at = -math.inf

    def _revision(self, conn: Connection) -> tuple[Any, ...]:
        row = conn.execute(
            select(func.count(Unit.id), func.max(Unit.id), func.max(Unit.updated_at))
        ).one()
        return tuple(str(v) for v in row)

    def _load(self, conn: Connection, revision: tuple[Any, ...]) -> _Snapshot:
        cols = (
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.level,
            Unit.path,
            Unit.depth,
            Unit.valid_from,
            Unit.valid_until,
        )
        by_id: dict[int, UnitRef] = {}
        refs, geoms = [], []
        for row in conn.execute(select(*cols, Unit.geometry)):
            ref = UnitRef(*row[:-1])
            by_id[ref.id] = ref
            if row.geometry:
                geom = to_shape(row.geometry)
                shapely.prepare(geom)
                # Build the prepared point index now, while no other thread can see it.
                shapely.intersects_xy(geom, 0.0, 0.0)
                refs.append(ref)
                geoms.append(geom)
        tree = STRtree(geoms) if geoms else None
        return _Snapshot(revision, by_id, tuple(refs), geoms, tree, len(by_id), len(geoms))

    def snapshot(self) -> _Snapshot:
        """Return the current in-memory copy, reloading it when the units table changed."""
        snap = self._snap
        now = time.monotonic()
        if snap is not None and now - self._checked_at < self.max_age:
            return snap
        with self._refresh_lock:
            if self._snap is not None and time.monotonic() - self._checked_at < self.max_age:
                return self._snap
            with self.engine.connect() as conn:
                revision = self._revision(conn)
                if self._snap is None or self._snap.revision != revision:
                    self._snap = self._load(conn, revision)
            self._checked_at = time.monotonic()
            return self._snap

    def hits(self, lat: float, lon: float) -> list[UnitRef]:
        """Return every unit whose polygon contains (or touches) the point, deepest first."""
        snap = self.snapshot()
        if snap.tree is None:
            return []
        with self._query_lock:
            candidates = snap.tree.query(shapely.Point(lon, lat))
            found = [
                snap.refs[i] for i in candidates if shapely.intersects_xy(snap.geoms[i], lon, lat)
            ]
        return sorted(found, key=lambda r: (-r.depth, r.code))

    def locate(
        self, lat: Any, lon: Any, *, principal: Principal | None = None, at: date | None = None
    ) -> Location:
        """Return the deepest unit valid on `at` containing the point, its chain, former units."""
        lat_f, lon_f = check_point(lat, lon)
        day = at or date.today()
        found = self.hits(lat_f, lon_f)
        if principal is not None:
            found = [r for r in found if in_scope(principal, r.path)]
        current = [r for r in found if r.valid_on(day)]
        former = tuple(r for r in found if not r.valid_on(day))
        unit = current[0] if current else None
        return Location(lat_f, lon_f, unit, self.chain(unit, principal), former)

    def chain(
        self, unit: UnitRef | None, principal: Principal | None = None
    ) -> tuple[UnitRef, ...]:
        """Return a unit's ancestors and itself, root first (only those in scope)."""
        if unit is None:
            return ()
        by_id = self.snapshot().by_id
        ids = [int(p) for p in unit.path.strip("/").split("/") if p]
        refs = [by_id[i] for i in ids if i in by_id]
        if principal is not None:
            refs = [r for r in refs if in_scope(principal, r.path)]
        return tuple(refs)


_LOCATORS: dict[str, UnitLocator] = {}
_LOCATORS_LOCK = threading.Lock()


def _engine_of(source: Session | Database | Engine | Connection) -> Engine:
    if isinstance(source, Database):
        return source.engine
    if isinstance(source, Session):
        bind = source.get_bind()
        return bind.engine if isinstance(bind, Connection) else bind
    return source.engine if isinstance(source, Connection) else source


def locator_for(source: Session | Database | Engine | Connection) -> UnitLocator:
    """Return the process-wide locator of a database (one per database URL)."""
    engine = _engine_of(source)
    key = engine.url.render_as_string(hide_password=False)
    with _LOCATORS_LOCK:
        loc = _LOCATORS.get(key)
        if loc is None:
            loc = _LOCATORS[key] = UnitLocator(engine)
        return loc


def locate(
    source: Session | Database | Engine | Connection,
    lat: Any,
    lon: Any,
    principal: Principal | None = None,
    *,
    at: date | None = None,
) -> Location:
    """Find which units contain (lat, lon); with a principal, only units in its scope."""
    return locator_for(source).locate(lat, lon, principal=principal, at=at)


def invalidate_all() -> None:
    """Make every locator in this process check for changed units on its next lookup."""
    with _LOCATORS_LOCK:
        for loc in _LOCATORS.values():
            loc.invalidate()


def _note_unit_writes(session: Session, _ctx: Any) -> None:
    touched = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(obj, Unit) for obj in touched):
        session.info["cityops_units_changed"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("cityops_units_changed", False):
        invalidate_all()


def _after_rollback(session: Session) -> None:
    session.info.pop("cityops_units_changed", None)


event.listen(Session, "after_flush", _note_unit_writes)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
