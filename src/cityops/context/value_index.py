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
from cityops.core.db import executemany

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
