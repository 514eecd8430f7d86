"""Sort orders of the operator queue: a whitelist of `sort` values, each an SQL ORDER BY."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case

from cityops.core.errors import InvalidInput
from cityops.modules.field_reports.choices import STATUSES, URGENCIES
from cityops.modules.field_reports.models import Report

DEFAULT_SORT = "-created_at"


def _rank(column: Any, choices: dict[str, Any]) -> Any:
    """Order a choice column by its place in the choice set (urgent first, received first)."""
    return case({value: i for i, value in enumerate(choices)}, value=column, else_=len(choices))


# key -> the expression sorted ascending ('-key' sorts it descending)
SORT_KEYS: dict[str, Any] = {
    "created_at": Report.created_at,
    "due_at": Report.due_at,
    "urgency": _rank(Report.urgency, URGENCIES),
    "status": _rank(Report.status, STATUSES),
}
SORTS = tuple(sorted([*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)]))


def order_by(sort: str) -> list[Any]:
    """Return the ORDER BY for a `sort` value (newest first breaks ties); 422 on an unknown one."""
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        raise InvalidInput(
            f"Unknown sort '{sort}': use one of {', '.join(SORTS)}", code="unknown_sort"
        )
    expr = SORT_KEYS[key]
    first = expr.desc() if sort.startswith("-") else expr.asc()
    return [first.nulls_last(), Report.created_at.desc(), Report.id.desc()]
