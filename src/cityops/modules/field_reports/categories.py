"""Report categories (Open311 services): list, create, change; their attribute answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cityops.core import audit
from cityops.core.auth.models import Agency
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize
from cityops.modules.field_reports import schemas as s
from cityops.modules.field_reports.models import Category, CategoryAgency


def get_category(session: Session, code: str, *, active_only: bool = True) -> Category:
    """Fetch a category by its code (NotFound if unknown or, by default, inactive)."""
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None or (active_only and not category.is_active):
        raise NotFound(f"No report category {code!r}", code="unknown_category")
    return category


def _agency_ids(session: Session, codes: list[str]) -> list[int]:
    ids = []
    for code in codes:
        agency_id = session.scalar(select(Agency.id).where(Agency.code == code))
        if agency_id is None:
            raise InvalidInput(f"Unknown agency code {code!r}", code="unknown_agency")
        ids.append(agency_id)
    return ids


def category_public(session: Session, category: Category) -> s.CategoryPublic:
    """Render a category."""
    codes = session.scalars(
        select(Agency.code)
        .join(CategoryAgency, CategoryAgency.agency_id == Agency.id)
        .where(CategoryAgency.category_id == category.id)
        .order_by(Agency.code)
    ).all()
    default = (
        session.scalar(select(Agency.code).where(Agency.id == category.default_agency_id))
        if category.default_agency_id
        else None
    )
    return s.CategoryPublic(
        id=category.id,
        code=category.code,
        name=category.name,
        name_en=category.name_en,
        description=category.description,
        description_en=category.description_en,
        group=category.group,
        group_en=category.group_en,
        keywords=category.keywords,
        attributes=[s.CategoryAttribute(**a) for a in category.attributes or []],
        sla_hours=category.sla_hours,
        sort_order=category.sort_order,
        is_active=category.is_active,
        default_agency_code=default,
        agency_codes=list(codes),
    )


def list_categories(session: Session, *, include_inactive: bool = False) -> list[Category]:
    """Return the categories in display order."""
    query = select(Category).order_by(Category.sort_order, Category.code)
    if not include_inactive:
        query = query.where(Category.is_active.is_(True))
    return list(session.scalars(query))


def _set_handlers(session: Session, category: Category, codes: list[str]) -> None:
    session.execute(delete(CategoryAgency).where(CategoryAgency.category_id == category.id))
    for agency_id in _agency_ids(session, codes):
        session.add(CategoryAgency(category_id=category.id, agency_id=agency_id))


def create_category(session: Session, principal: Principal, data: s.CategoryCreate) -> Category:
    """Create a category (province-wide configuration: root-scope writers only)."""
    authorize(principal, Perm.data_write, None, hide=False)
    if session.scalar(select(func.count()).where(Category.code == data.code)):
        raise Conflict(f"Category code {data.code!r} already exists", code="duplicate_code")
    values = data.model_dump(exclude={"default_agency_code", "agency_codes"})
    category = Category(**values)
    if data.default_agency_code:
        category.default_agency_id = _agency_ids(session, [data.default_agency_code])[0]
    session.add(category)
    session.flush()
    _set_handlers(session, category, data.agency_codes)
    audit.record(
        session,
        principal,
        "field_report_category.create",
        "field_report_category",
        category.code,
        after=audit.snapshot(category),
    )
    return category


def update_category(
    session: Session, principal: Principal, code: str, data: s.CategoryUpdate
) -> Category:
    """Change a category (only the fields given)."""
    authorize(principal, Perm.data_write, None, hide=False)
    category = get_category(session, code, active_only=False)
    before = audit.snapshot(category)
    changes = data.model_dump(exclude_unset=True)
    if "default_agency_code" in changes:
        default = changes.pop("default_agency_code")
        category.default_agency_id = _agency_ids(session, [default])[0] if default else None
    if "agency_codes" in changes:
        _set_handlers(session, category, changes.pop("agency_codes") or [])
    for key, value in changes.items():
        setattr(category, key, value)
    session.flush()
    audit.record(
        session,
        principal,
        "field_report_category.update",
        "field_report_category",
        category.code,
        before=before,
        after=audit.snapshot(category),
    )
    return category


def _not_among(code: str, value: Any, keys: set[str]) -> InvalidInput:
    return InvalidInput(
        f"attribute {code}: {value!r} is not one of {sorted(keys)}", code="invalid_attribute"
    )


def _one(attr: dict[str, Any], value: Any) -> Any:
    """Check one answer against its attribute's datatype; return it normalised."""
    code, kind = attr["code"], attr["datatype"]
    keys = {v["key"] for v in attr.get("values") or []}
    if kind == "multivaluelist":
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if str(v) not in keys]
        if bad:
            raise _not_among(code, bad, keys)
        return [str(v) for v in values]
    if isinstance(value, list):
        raise InvalidInput(f"attribute {code} takes one value", code="invalid_attribute")
    if kind == "singlevaluelist" and str(value) not in keys:
        raise _not_among(code, value, keys)
    try:
        if kind == "number":
            return float(value)
        if kind == "datetime":
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat()
    except ValueError as err:
        raise InvalidInput(f"attribute {code} must be a {kind}", code="invalid_attribute") from err
    return str(value)


def check_attributes(category: Category, answers: dict[str, Any]) -> dict[str, Any]:
    """Validate answers to a category's attributes (required ones, list keys, types)."""
    defs = {a["code"]: a for a in category.attributes or []}
    unknown = sorted(set(answers) - set(defs))
    if unknown:
        raise InvalidInput(
            f"Unknown attribute(s) {unknown} for category {category.code}",
            code="invalid_attribute",
        )
    out: dict[str, Any] = {}
    for code, attr in defs.items():
        value = answers.get(code)
        if value in (None, "", []):
            if attr.get("required") and attr.get("variable", True):
                raise InvalidInput(
                    f"attribute {code} ({attr['description']}) is required",
                    code="invalid_attribute",
                )
            continue
        out[code] = _one(attr, value)
    return out
