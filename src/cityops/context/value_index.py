"""Keep ctx_attr_values (the searchable scalars of current attributes) in step with writes.

Every write of an entity's attributes goes through EntityStore or bulk_write, which call
these functions with just the attributes that changed: a reading touching one attribute
re-indexes one attribute. The rows mirror what `q` compares (see qlang_sql): numbers and
strings of an attribute's value, object and vocab (array items included) and the strings of
its languageMap.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cityops.context.models import TEXT_PREFIX, ContextAttributeValue
from cityops.core.driver import executemany

V = ContextAttributeValue.__table__


def value_rows(pk: int, iri: str, attr: Any) -> list[dict[str, Any]]:
    """The index rows of one attribute of one entity."""
    if not isinstance(attr, dict):
        return []
    rows = []
    for member in ("value", "object", "vocab"):
        found = attr.get(member)
        for item in found if isinstance(found, list) else (found,):
            if isinstance(item, str):
                rows.append(_row(pk, iri, None, item[:TEXT_PREFIX]))
            elif member == "value" and isinstance(item, int | float) and not isinstance(item, bool):
                rows.append(_row(pk, iri, float(item), None))
    langs = attr.get("languageMap")
    if isinstance(langs, dict):
        rows += [_row(pk, iri, None, t[:TEXT_PREFIX]) for t in langs.values() if isinstance(t, str)]
    return rows


def _row(pk: int, iri: str, num: float | None, text: str | None) -> dict[str, Any]:
    return {"entity_pk": pk, "attr": iri, "value_num": num, "value_text": text}


@lru_cache(maxsize=1)
def _delete_one() -> Any:
    return sa.delete(V).where(
        V.c.entity_pk == sa.bindparam("d_pk"), V.c.attr == sa.bindparam("d_attr")
    )


@lru_cache(maxsize=1)
def _insert() -> Any:
    return sa.insert(V)


@lru_cache(maxsize=1)
def _set_number() -> Any:
    return (
        sa.update(V)
        .where(V.c.entity_pk == sa.bindparam("n_pk"), V.c.attr == sa.bindparam("n_attr"))
        .values(value_num=sa.bindparam("n_num"))
    )


def _number(attr: Any) -> float | None:
    """The one index value of a plain numeric Property (what most readings are), else None."""
    if type(attr) is not dict or "object" in attr or "vocab" in attr or "languageMap" in attr:
        return None
    value = attr.get("value")
    if type(value) is float or type(value) is int:
        return float(value)
    return None


def reindex_changed(
    session: Session, changes: list[tuple[int, str, Any, Any]], *, whole: Iterable[int] = ()
) -> None:
    """Re-index (entity pk, attribute IRI, new attribute, previous attribute) quadruples: a
    number replacing a number is updated in place (one row, one index touched); the rest
    goes through reindex."""
    whole = set(whole)
    numbers: list[tuple[int, str, Any, float]] = []
    others: list[tuple[int, str, Any]] = []
    for pk, iri, new, old in changes:
        num = None if pk in whole else _number(new)
        if num is not None and _number(old) is not None:
            numbers.append((pk, iri, new, num))
        else:
            others.append((pk, iri, new))
    if numbers:
        params = [{"n_pk": pk, "n_attr": iri, "n_num": num} for pk, iri, _, num in numbers]
        if executemany(session.connection(), _set_number(), params) != len(numbers):
            # an index row was missing (or the driver cannot count): re-index them whole
            others += [(pk, iri, new) for pk, iri, new, _ in numbers]
    reindex(session, others, whole=whole)


def reindex(
    session: Session,
    changes: Iterable[tuple[int, str, Any]],
    *,
    whole: Iterable[int] = (),
    created: bool = False,
) -> None:
    """Re-index (entity pk, attribute IRI, new attribute or None if removed) triples;
    entities in `whole` first lose every indexed value (a replace); `created`: nothing to
    remove (new entities)."""
    conn = session.connection()
    whole = list(whole)
    if whole:
        conn.execute(sa.delete(V).where(V.c.entity_pk.in_(whole)))
    changes = list(changes)
    if not changes:
        return
    cleared = set(whole)
    if not created:
        gone = [{"d_pk": pk, "d_attr": iri} for pk, iri, _ in changes if pk not in cleared]
        executemany(conn, _delete_one(), gone)
    rows = [row for pk, iri, attr in changes for row in value_rows(pk, iri, attr)]
    executemany(conn, _insert(), rows)
