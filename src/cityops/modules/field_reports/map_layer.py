"""GET /api/field-reports/reports.geojson: the lean map layer of the reports a caller may read.

One GeoJSON Feature per located report with only what the map draws (tracking code, status,
category code, point), scoped like the list: every report still open, and finished ones
received in the last `days` days (default 30), newest first, at most MAX_FEATURES — so a
province with a million reports stored still sends the wall only what it shows. The ETag is
derived from the caller's scope and a cheap summary of those rows (count, newest change,
highest id), so a reload with If-None-Match is answered 304 without building the body.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select, func, or_, select

from cityops.core.db import utcnow
from cityops.core.deps import SessionDep, require
from cityops.core.policy import Perm, Principal, authorize
from cityops.modules.field_reports import access
from cityops.modules.field_reports.choices import FINISHED
from cityops.modules.field_reports.models import Category, Report

GEOJSON = "application/geo+json"
MAX_FEATURES = 50_000
Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Days = Annotated[int, Query(ge=1, le=366, description="Finished reports received this recently")]


def _shown(query: Select[Any], principal: Principal, days: int) -> Select[Any]:
    """Keep the readable, located reports the map shows: open ones and recent finished ones."""
    since = utcnow() - timedelta(days=days)
    recent = or_(Report.status.not_in(sorted(FINISHED)), Report.created_at >= since)
    located = (Report.lat.is_not(None), Report.lon.is_not(None))
    return access.readable(query, principal).where(*located, recent)


def layer_etag(session: SessionDep, principal: Principal, days: int) -> str:
    """Return a strong ETag for the caller's layer: scope plus a summary of the shown rows."""
    summary = select(func.count(), func.max(Report.updated_at), func.max(Report.id))
    count, changed, top = session.execute(_shown(summary, principal, days)).one()
    scope = (principal.kind, principal.id, principal.role, principal.unit_path, principal.agency_id)
    raw = repr((scope, days, count, changed.isoformat() if changed else None, top))
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def layer_body(session: SessionDep, principal: Principal, days: int) -> bytes:
    """Build the FeatureCollection (newest first, at most MAX_FEATURES) as compact JSON."""
    query = select(Report.tracking_code, Report.status, Category.code, Report.lon, Report.lat)
    query = query.join(Category, Category.id == Report.category_id)
    query = _shown(query, principal, days).order_by(Report.created_at.desc()).limit(MAX_FEATURES)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": code, "status": status, "category": category},
        }
        for code, status, category, lon, lat in session.execute(query)
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def reports_geojson(
    request: Request, session: SessionDep, principal: Reader, days: Days = 30
) -> Response:
    """Return open and recent located reports you may see as lean GeoJSON (304 if unchanged)."""
    authorize(principal, Perm.data_read, check_unit=False, hide=False)
    etag = layer_etag(session, principal, days)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie, Authorization"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    body = layer_body(session, principal, days)
    return Response(body, media_type=GEOJSON, headers=headers)
