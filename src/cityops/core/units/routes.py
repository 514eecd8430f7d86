"""HTTP API of administrative units: /api/units."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from cityops.core.deps import SessionDep, require
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.policy import Perm, Principal
from cityops.core.units import service, views
from cityops.core.units.geometry import BOUNDARY_ATTRIBUTION, BOUNDARY_LICENSE_URL
from cityops.core.units.loaders import MAX_FILE_BYTES, import_bytes
from cityops.core.units.locate import Location, UnitRef, locate
from cityops.core.units.models import Unit
from cityops.core.units.schemas import (
    ImportResultPublic,
    LocatePublic,
    UnitCreate,
    UnitList,
    UnitPublic,
    UnitRefPublic,
    UnitTree,
    UnitUpdate,
)

router = APIRouter(prefix="/api/units", tags=["units"])

Reader = Annotated[Principal, Depends(require(Perm.units_read))]
Writer = Annotated[Principal, Depends(require(Perm.units_write))]
IncludeFormer = Annotated[
    bool, Query(description="Also list units not valid on `at` (former or future units)")
]
At = Annotated[date | None, Query(description="Date of validity (default: today)")]
GEOJSON = "application/geo+json"


def _ref(ref: UnitRef) -> UnitRefPublic:
    return UnitRefPublic(
        id=ref.id,
        code=ref.code,
        name=ref.name,
        level=ref.level,
        depth=ref.depth,
        valid_from=ref.valid_from,
        valid_until=ref.valid_until,
    )


def _located(loc: Location) -> LocatePublic:
    return LocatePublic(
        lat=loc.lat,
        lon=loc.lon,
        unit=_ref(loc.unit) if loc.unit else None,
        chain=[_ref(r) for r in loc.chain],
        former=[_ref(r) for r in loc.former],
        attribution=BOUNDARY_ATTRIBUTION,
    )


def _feature(unit: Unit) -> dict[str, Any]:
    props = {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "division_type": unit.division_type,
        "valid_from": unit.valid_from.isoformat() if unit.valid_from else None,
        "valid_until": unit.valid_until.isoformat() if unit.valid_until else None,
        "attribution": BOUNDARY_ATTRIBUTION,
    }
    return {"type": "Feature", "id": unit.code, "geometry": unit.geometry, "properties": props}


@router.get("", response_model=UnitList)
def list_units(
    session: SessionDep,
    principal: Reader,
    include_former: IncludeFormer = False,
    at: At = None,
    level: str | None = None,
    parent: Annotated[str | None, Query(description="Parent code")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Name search, accents optional")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UnitList:
    """List administrative units in your scope (filter by level, parent, name)."""
    units, total = service.list_units(
        session,
        principal,
        level=level,
        parent_code=parent,
        q=q,
        include_former=include_former,
        at=at,
        limit=limit,
        offset=offset,
    )
    return UnitList(items=views.to_public(session, units), total=total, limit=limit, offset=offset)


@router.get(".geojson", response_class=JSONResponse)
def units_geojson(
    session: SessionDep,
    principal: Reader,
    include_former: IncludeFormer = False,
    at: At = None,
    level: str | None = None,
) -> JSONResponse:
    """Return the polygons of units in your scope as a GeoJSON FeatureCollection."""
    units = service.with_geometry(
        session, principal, level=level, include_former=include_former, at=at
    )
    body = {
        "type": "FeatureCollection",
        "attribution": BOUNDARY_ATTRIBUTION,
        "license": BOUNDARY_LICENSE_URL,
        "features": [_feature(u) for u in units],
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get("/tree", response_model=UnitTree)
def unit_tree(
    session: SessionDep,
    principal: Reader,
    include_former: IncludeFormer = False,
    at: At = None,
    root: Annotated[str | None, Query(description="Code of the unit to start from")] = None,
    max_depth: Annotated[int | None, Query(ge=0, le=20)] = None,
) -> UnitTree:
    """Return the nested tree of units in your scope."""
    items, total = views.tree(
        session,
        principal,
        root_code=root,
        include_former=include_former,
        at=at,
        max_depth=max_depth,
    )
    return UnitTree(items=items, total=total)


@router.get("/locate", response_model=LocatePublic)
def locate_point(
    session: SessionDep, principal: Reader, lat: float, lon: float, at: At = None
) -> LocatePublic:
    """Find the deepest unit in your scope whose polygon contains a point (lat, lon)."""
    return _located(locate(session, lat, lon, principal, at=at))


@router.post("", response_model=UnitPublic, status_code=201)
def create_unit(session: SessionDep, principal: Writer, body: UnitCreate) -> UnitPublic:
    """Create an administrative unit (administrators)."""
    return views.to_public(session, [service.create_unit(session, principal, body)])[0]


@router.post("/import", response_model=ImportResultPublic)
def import_units(
    session: SessionDep,
    principal: Writer,
    file: Annotated[UploadFile, File(description="GeoJSON FeatureCollection or CSV of units")],
    parent_code: Annotated[
        str | None, Form(description="Code of the unit to put the file's roots under")
    ] = None,
) -> ImportResultPublic:
    """Import units from a GeoJSON or CSV file, all or nothing (administrators)."""
    data = file.file.read(MAX_FILE_BYTES + 1)
    if not file.filename:
        raise InvalidInput("The upload has no file name (needed to tell GeoJSON from CSV)")
    result = import_bytes(session, data, file.filename, principal, parent_code=parent_code or None)
    return ImportResultPublic(**result.as_dict())


@router.get("/{code}", response_model=UnitPublic)
def get_unit(session: SessionDep, principal: Reader, code: str) -> UnitPublic:
    """Return one unit by its code."""
    return views.to_public(session, [service.get_by_code(session, principal, code)])[0]


@router.get("/{code}/children", response_model=UnitList)
def unit_children(
    session: SessionDep,
    principal: Reader,
    code: str,
    include_former: IncludeFormer = False,
    at: At = None,
) -> UnitList:
    """List the direct children of a unit."""
    units = service.children(session, principal, code, include_former=include_former, at=at)
    return UnitList(
        items=views.to_public(session, units), total=len(units), limit=len(units), offset=0
    )


@router.get("/{code}/ancestors", response_model=UnitList)
def unit_ancestors(session: SessionDep, principal: Reader, code: str) -> UnitList:
    """List the ancestors of a unit in your scope, root first."""
    units = service.ancestors(session, principal, code)
    return UnitList(
        items=views.to_public(session, units), total=len(units), limit=len(units), offset=0
    )


@router.get("/{code}/geometry", response_class=JSONResponse)
def unit_geometry(session: SessionDep, principal: Reader, code: str) -> JSONResponse:
    """Return a unit's polygon as a GeoJSON Feature (with its attribution)."""
    unit = service.get_by_code(session, principal, code)
    if not unit.geometry:
        raise NotFound(f"Unit {code!r} has no geometry", code="no_geometry")
    return JSONResponse(_feature(unit), media_type=GEOJSON)


@router.patch("/{code}", response_model=UnitPublic)
def update_unit(session: SessionDep, principal: Writer, code: str, body: UnitUpdate) -> UnitPublic:
    """Rename, re-date, re-draw or move a unit with its subtree (administrators)."""
    return views.to_public(session, [service.update_unit(session, principal, code, body)])[0]


@router.delete("/{code}", status_code=204)
def delete_unit(session: SessionDep, principal: Writer, code: str) -> Response:
    """Delete a unit without children that nothing refers to (administrators)."""
    service.delete_unit(session, principal, code)
    return Response(status_code=204)
