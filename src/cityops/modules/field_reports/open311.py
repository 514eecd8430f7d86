"""Open311 GeoReport v2: services, service definitions and requests as the spec shapes them."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.errors import CityOpsError
from cityops.core.policy import Principal
from cityops.core.units.models import Unit
from cityops.modules.field_reports.access import read_filter
from cityops.modules.field_reports.categories import get_category, list_categories
from cityops.modules.field_reports.choices import FINISHED, MODERATED, STATUSES
from cityops.modules.field_reports.models import Category, Photo, Report
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.schemas import ReportCreate
from cityops.modules.field_reports.views import Lookup

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# Child element names of the lists in the XML form.
XML_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(CityOpsError):
    """An error answered in the Open311 error format."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status


def local_iso(rt: Runtime, value: datetime | None) -> str | None:
    """Format an instant as ISO 8601 in the calendar's local time, with its offset."""
    return None if value is None else value.astimezone(rt.calendar.tz).isoformat(timespec="seconds")


def service(category: Category) -> dict[str, Any]:
    """Render a category as an Open311 service."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


def services(session: Session) -> list[dict[str, Any]]:
    """List the active categories as Open311 services."""
    return [service(c) for c in list_categories(session)]


def definition(session: Session, code: str) -> dict[str, Any]:
    """Render a category's attributes as an Open311 service definition."""
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None or not category.is_active:
        raise Open311Error(404, f"service_code {code} not found")
    attributes = []
    for i, attr in enumerate(category.attributes or [], start=1):
        item = {
            "variable": attr.get("variable", True),
            "code": attr["code"],
            "datatype": attr["datatype"],
            "required": attr.get("required", False),
            "datatype_description": attr.get("datatype_description"),
            "order": attr.get("order") or i,
            "description": attr["description"],
        }
        if attr["datatype"] in ("singlevaluelist", "multivaluelist"):
            item["values"] = [
                {"key": v["key"], "name": v["name"]} for v in attr.get("values") or []
            ]
        attributes.append(item)
    return {"service_code": category.code, "attributes": attributes}


def attribute_answers(form: list[tuple[str, str]]) -> dict[str, Any]:
    """Collect `attribute[CODE]=v` and `attribute[CODE][]=v` form fields."""
    answers: dict[str, Any] = {}
    for key, value in form:
        match = ATTRIBUTE_KEY.match(key)
        if not match:
            continue
        code, many = match.group(1), bool(match.group(2))
        if many or code in answers:
            previous = answers.get(code, [])
            answers[code] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            answers[code] = value
    return answers


def _float(form: dict[str, str], name: str) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as err:
        raise Open311Error(400, f"{name} must be a number (WGS84 degrees)") from err


def report_input(session: Session, form: list[tuple[str, str]]) -> ReportCreate:
    """Read a POST requests form into a report (400 naming what is missing or wrong)."""
    fields = {k: v for k, v in form}
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    try:
        category = get_category(session, code)
    except CityOpsError as err:
        raise Open311Error(400, f"service_code {code} not found") from err
    lat, lon = _float(fields, "lat"), _float(fields, "long")
    address = fields.get("address_string", "").strip() or None
    if (lat is None or lon is None) and not address:
        raise Open311Error(400, "lat and long, or address_string, are required")
    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p) or None
    description = fields.get("description", "").strip() or category.name
    return ReportCreate(
        category_code=code,
        description=description[:4000],
        lat=lat if lon is not None else None,
        lon=lon if lat is not None else None,
        address=address[:300] if address else None,
        attributes=attribute_answers(form),
        reporter_name=name,
        reporter_phone=fields.get("phone") or None,
        reporter_email=fields.get("email") or None,
        media_url=fields.get("media_url") or None,
    )


def new_token() -> str:
    """Make the token an Open311 client can trade for the request id."""
    return secrets.token_urlsafe(16)


def request_item(lookup: Lookup, rt: Runtime, report: Report, base: str) -> dict[str, Any]:
    """Render a report as an Open311 service request (public-safe: no reporter)."""
    session = lookup.session
    category, agency = lookup.category(report.category_id), lookup.agency(report.agency_id)
    moderated = report.status in MODERATED
    notes = STATUSES[report.status].label_vi
    shown = report
    main = session.get(Report, report.duplicate_of_id) if report.duplicate_of_id else None
    if main is not None:  # a merged duplicate follows its main report
        shown = main
        notes = (
            f"Trùng với phản ánh {main.tracking_code} ({STATUSES[main.status].label_vi}) / "
            f"duplicate of {main.tracking_code} ({STATUSES[main.status].label_en})"
        )
    unit = lookup.unit(report.unit_id)
    return {
        "service_request_id": report.tracking_code,
        "status": "closed" if shown.status in FINISHED else "open",
        "status_notes": notes,
        "service_name": category.name,
        "service_code": category.code,
        "description": report.description if moderated else None,
        "agency_responsible": agency.name if agency else None,
        "service_notice": report.resolution if report.status in FINISHED else None,
        "requested_datetime": local_iso(rt, report.created_at),
        "updated_datetime": local_iso(rt, report.updated_at),
        "expected_datetime": local_iso(rt, report.due_at),
        # unverified reports show the commune only, not the exact point
        "address": report.address if moderated else (unit.name if unit else None),
        "address_id": None,
        "zipcode": None,
        "lat": report.lat if moderated else None,
        "long": report.lon if moderated else None,
        "media_url": _media_url(session, report, base) if moderated else None,
    }


def _media_url(session: Session, report: Report, base: str) -> str | None:
    photo_id = session.scalar(
        select(Photo.id).where(Photo.report_id == report.id).order_by(Photo.id).limit(1)
    )
    if photo_id is not None:
        return f"{base}/api/field-reports/public/reports/{report.tracking_code}/photos/{photo_id}"
    return report.media_url if report.media_url and "://" in report.media_url else None


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise Open311Error(
            400, f"{name} must be a W3C date-time, e.g. 2026-01-01T00:00:00Z"
        ) from err
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone, e.g. 2026-01-01T00:00:00+07:00")
    return parsed


def find_requests(
    session: Session, rt: Runtime, principal: Principal, params: dict[str, str]
) -> list[Report]:
    """Select requests per GET requests: ids, or service codes, dates and open/closed status."""
    query = select(Report)
    if principal.is_authenticated:
        query = query.join(Unit, Unit.id == Report.unit_id).where(read_filter(principal))
    ids = [i.strip().upper() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        query = query.where(Report.tracking_code.in_(ids))
        return list(session.scalars(query.order_by(Report.created_at.desc()).limit(MAX_REQUESTS)))
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    if codes:
        query = query.where(
            Report.category_id.in_(select(Category.id).where(Category.code.in_(codes)))
        )
    end = _date(params.get("end_date"), "end_date") or rt.now
    start = _date(params.get("start_date"), "start_date") or end - timedelta(days=DEFAULT_DAYS)
    query = query.where(Report.created_at >= start, Report.created_at <= end)
    wanted = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed or both (comma separated)")
    if wanted == {"open"}:
        query = query.where(Report.status.not_in(list(FINISHED)))
    elif wanted == {"closed"}:
        query = query.where(Report.status.in_(list(FINISHED)))
    return list(session.scalars(query.order_by(Report.created_at.desc()).limit(MAX_REQUESTS)))


def _element(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _element(node, XML_ITEMS.get(tag, "item"), item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def to_xml(root: str, item: str | None, body: Any) -> bytes:
    """Render a list of items (or one object when item is None) as Open311 XML, UTF-8."""
    top = ET.Element(root)
    if item is None:
        for key, value in body.items():
            _element(top, key, value)
    else:
        for entry in body:
            _element(top, item, entry)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)
