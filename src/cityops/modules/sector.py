"""What the sector modules (health, education, tourism) share: hub entities, CSV rows, and
their entries in the indicator engine's catalogue.

Health facilities, schools, attractions and events live in the NGSI-LD hub (each fact stored
once), so NGSI-LD clients, subscriptions and the temporal API see them like any other entity;
the sector modules own no copy. This is a helper module, not a sector module (discovery only
loads packages).

The hub places an entity in the deepest unit whose polygon contains its location. Where the
communes have no polygon (the demo tree), that is the province, so a sector module places the
entity in the commune it names once the location is checked to lie in it (PinnedStore): the
entity is then scoped to its commune (a commune's API key may update it, its operators see it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from fastapi import UploadFile
from pydantic import BaseModel, ValidationError
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.context.entities import LOCATION_IRI, parse_attributes, parse_entity
from cityops.context.errors import NgsiLdError
from cityops.context.events import EntityChanged
from cityops.context.jsonld import ActiveContext, ContextResolver
from cityops.context.models import ContextEntity
from cityops.context.render import RenderOptions, render_feature
from cityops.context.store import EntityStore
from cityops.core.audit import record
from cityops.core.errors import CityOpsError, Forbidden, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize, scope_filter, system_principal
from cityops.core.units.geometry import to_shape
from cityops.core.units.models import Unit
from cityops.modules.indicators.catalogue import create_indicator
from cityops.modules.indicators.models import Indicator
from cityops.modules.indicators.schemas import IndicatorCreate


class RowError(BaseModel):
    """Why one row of an upload was refused (row numbers count the CSV header as row 1)."""

    row: int
    column: str | None
    message: str


class ImportResult(BaseModel):
    """What an upload did: rows stored, refused rows with reasons."""

    imported: int
    errors: list[RowError]


SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
TENANT = ""
KEY_VALUES = RenderOptions(key_values=True)


@lru_cache
def context(*domains: str) -> ActiveContext:
    """Return the built-in @context of Smart Data Models domains (works offline)."""
    return ContextResolver().resolve([SDM.format(d) for d in domains])


def _checked(err: NgsiLdError) -> Exception:
    """Turn a hub error into the structured error of the module APIs."""
    if err.kind == "Forbidden":
        return Forbidden(err.detail, code="forbidden")
    if err.kind == "ResourceNotFound":
        return NotFound(err.detail, code="not_found")
    return InvalidInput(err.detail, code="invalid_entity")


def _check_inside(
    store: EntityStore, attrs: dict[str, Any], located_id: int | None, unit: Unit
) -> None:
    """Refuse a location outside `unit`: the hub's unit must be the unit or an ancestor.

    When the hub's locator finds no unit (it also cannot see units written in this very
    transaction, as in the demo seed), the deepest ancestor with a polygon must contain the
    location; it is accepted unchecked only when no ancestor has a polygon.
    """
    located = store.unit_path(located_id)
    if located is not None:
        inside = unit.path.startswith(located)
    else:
        ancestors = [int(i) for i in unit.path.strip("/").split("/") if i]
        rows = store.session.scalars(select(Unit).where(Unit.id.in_(ancestors))).all()
        mapped = max((u for u in rows if u.geometry), key=lambda u: u.depth, default=None)
        geo = attrs.get(LOCATION_IRI, {}).get("value")
        inside = mapped is None or (
            geo is not None and to_shape(mapped.geometry).intersects(shape(geo))
        )
    if not inside:
        raise InvalidInput(
            f"The location is not in {unit.name} ({unit.code})", code="location_outside_unit"
        )


class PinnedStore(EntityStore):
    """An entity store that places entities in a named unit, checked against their location.

    The caller's write permission is then checked on that unit, so a commune's operator may
    add the commune's facilities even where communes have no polygon.
    """

    def __init__(self, session: Session, principal: Principal, unit: Unit) -> None:
        super().__init__(session, TENANT, principal)
        self.unit = unit

    def placement(self, attrs: dict[str, Any]) -> tuple[int | None, tuple[float | None, ...]]:
        """Place the entity in the named unit once its location is checked to lie in it."""
        located_id, bbox = super().placement(attrs)
        _check_inside(self, attrs, located_id, self.unit)
        return self.unit.id, bbox


def upsert(
    session: Session, principal: Principal, payload: dict[str, Any], ctx: ActiveContext, unit: Unit
) -> list[EntityChanged]:
    """Create an entity located in `unit`, or overlay the given attributes on the existing one.

    Attributes not in the payload (e.g. today's occupancy) are kept; the caller's scope is
    checked on the unit and, for an existing entity, on where it is now.
    """
    authorize(principal, Perm.data_write, unit.path, hide=False)
    store = PinnedStore(session, principal, unit)
    try:
        parsed = parse_entity(payload, ctx)
        row = store.find(parsed.entity_id)
        if row is None:
            events = [store.create(parsed)]
        elif not store.visible(row):
            raise Forbidden(f"{parsed.entity_id} exists outside your scope", code="forbidden")
        elif row.type != parsed.type:
            raise InvalidInput(f"{parsed.entity_id} is another type of entity", code="wrong_type")
        else:
            events = store.write_attrs(row, parsed.attrs, parsed.datasets, mode="append").events
            _audit_update(store, row, parsed.attrs)
    except NgsiLdError as err:
        raise _checked(err) from err
    session.flush()
    return events


def _audit_update(store: EntityStore, row: ContextEntity, attrs: dict[str, Any]) -> None:
    """Audit a change of attributes (the hub itself audits creations, replacements, deletions)."""
    changed = {iri: attr.get("value", attr.get("object")) for iri, attr in attrs.items()}
    record(
        store.session,
        store.principal,
        "entity.update",
        "ngsi-ld-entity",
        row.entity_id,
        after={"type": row.type, "attrs": changed},
        unit_id=row.unit_id,
    )


def update_attrs(
    session: Session,
    principal: Principal,
    entity_id: str,
    attrs: dict[str, Any],
    ctx: ActiveContext,
) -> list[EntityChanged]:
    """Change attributes of an entity; each change goes into the hub's history."""
    store = EntityStore(session, TENANT, principal)
    try:
        row = store.get(entity_id)
        parsed, datasets = parse_attributes(attrs, ctx)
        result = store.write_attrs(row, parsed, datasets, mode="append")
    except NgsiLdError as err:
        raise _checked(err) from err
    _audit_update(store, row, parsed)
    return result.events


def find(
    session: Session, principal: Principal, entity_id: str, types: Iterable[str]
) -> ContextEntity:
    """Return an entity of one of the types in the caller's scope, or raise NotFound."""
    row = session.scalar(
        select(ContextEntity)
        .outerjoin(Unit, Unit.id == ContextEntity.unit_id)
        .where(
            ContextEntity.tenant == TENANT,
            ContextEntity.entity_id == entity_id,
            ContextEntity.type.in_(list(types)),
            scope_filter(principal, Unit.path),
        )
    )
    if row is None:
        raise NotFound(f"No {entity_id} in your scope", code="not_found")
    return row


def rows(
    session: Session, principal: Principal | None, types: Iterable[str], unit: Unit | None = None
) -> list[ContextEntity]:
    """Return the entities of some types the caller may see (None: public, no scope)."""
    query = (
        select(ContextEntity)
        .outerjoin(Unit, Unit.id == ContextEntity.unit_id)
        .where(ContextEntity.tenant == TENANT, ContextEntity.type.in_(list(types)))
        .order_by(ContextEntity.entity_id)
    )
    if principal is not None:
        query = query.where(scope_filter(principal, Unit.path))
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    return list(session.scalars(query))


def values(row: ContextEntity, ctx: ActiveContext) -> dict[str, Any]:
    """Return an entity's attributes as plain values, by their short names."""
    return render_feature(row, ctx, KEY_VALUES)["properties"]


def feature(
    row: ContextEntity, ctx: ActiveContext, keep: Iterable[str] | None = None
) -> dict[str, Any]:
    """Render an entity as a GeoJSON Feature with plain values (only `keep` when given)."""
    out = render_feature(row, ctx, KEY_VALUES)
    if keep is not None:
        wanted = set(keep)
        out["properties"] = {k: v for k, v in out["properties"].items() if k in wanted}
    return out


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap features into a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": features}


def observed(at: datetime | None) -> str:
    """Return an observedAt timestamp (now when not given), UTC with a Z."""
    when = (at or datetime.now(UTC)).astimezone(UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


MAX_UPLOAD = 5 * 1024 * 1024


async def read_upload(
    file: UploadFile, required: Iterable[str]
) -> list[tuple[int, dict[str, str]]]:
    """Read an uploaded CSV (at most 5 MB) into numbered rows; refuse missing columns."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("The file is larger than 5 MB", code="payload_too_large")
    return read_csv(content, required)


def read_csv(content: bytes, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Read a UTF-8 CSV (comma or semicolon) into numbered rows keyed by lower-case column."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput("The CSV file must be UTF-8", code="bad_file") from err
    sample = text[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    lines = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not lines:
        raise InvalidInput("The CSV file is empty", code="bad_file")
    names = [h.strip().lower() for h in lines[0]]
    missing = [c for c in required if c not in names]
    if missing:
        raise InvalidInput(
            f"The first row must name the columns; missing: {', '.join(missing)}",
            code="missing_columns",
        )
    return [
        (number, {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names)})
        for number, cells in enumerate(lines[1:], start=2)
        if any(c.strip() for c in cells)
    ]


def ensure_indicators(session: Session, specs: Iterable[IndicatorCreate]) -> dict[str, Indicator]:
    """Add the module's indicators to the engine's catalogue when missing (audited)."""
    out: dict[str, Indicator] = {}
    actor = system_principal("catalogue")
    for spec in specs:
        found = session.scalar(select(Indicator).where(Indicator.code == spec.code))
        out[spec.code] = found or create_indicator(session, actor, spec)
    return out


def find_indicators(session: Session, codes: Iterable[str]) -> dict[str, Indicator]:
    """Return the catalogue entries with these codes that exist (none are added)."""
    rows = session.scalars(select(Indicator).where(Indicator.code.in_(list(codes))))
    return {row.code: row for row in rows}


def row_error(number: int, err: ValidationError) -> RowError:
    """Turn the first validation error of a row into a RowError naming its column."""
    first = err.errors()[0]
    column = str(first["loc"][0]) if first.get("loc") else None
    return RowError(row=number, column=column, message=first["msg"])


_COLUMN_OF = {"unknown_unit": "unit_code", "forbidden": "unit_code", "location_outside_unit": "lat"}
Saver = Callable[[Session, Principal, Any, Unit], list[EntityChanged]]


def import_entities(
    session: Session,
    principal: Principal,
    rows: list[tuple[int, dict[str, Any]]],
    model: type[BaseModel],
    save: Saver,
) -> tuple[ImportResult, list[EntityChanged]]:
    """Add or change one hub entity per row; a bad row is reported, the good ones land."""
    errors: list[RowError] = []
    events: list[EntityChanged] = []
    seen: dict[str, int] = {}
    stored = 0
    for number, row in rows:
        values = {k: v for k, v in row.items() if str(v if v is not None else "").strip()}
        try:
            data = model.model_validate(values)
        except ValidationError as err:
            errors.append(row_error(number, err))
            continue
        code = str(getattr(data, "code", ""))
        if code in seen:
            message = f"Trùng mã với dòng {seen[code]} / same code as row {seen[code]}"
            errors.append(RowError(row=number, column="code", message=message))
            continue
        seen[code] = number
        unit_code = str(getattr(data, "unit_code", ""))
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        try:
            if unit is None:
                raise NotFound(f"Không có đơn vị '{unit_code}' / unknown unit", code="unknown_unit")
            with session.begin_nested():
                events.extend(save(session, principal, data, unit))
            stored += 1
        except CityOpsError as err:
            column = _COLUMN_OF.get(err.code)
            errors.append(RowError(row=number, column=column, message=err.detail))
    return ImportResult(imported=stored, errors=errors), events
