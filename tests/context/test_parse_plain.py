"""A reading's plain Property takes a short path through the parser (entities._plain_property):
what it stores, and the errors it gives, are the full parser's, byte for byte."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cityops.context import entities
from cityops.context.errors import NgsiLdError
from cityops.context.jsonld import ContextResolver

CASES: list[tuple[str, Any]] = [
    ("pm25", {"type": "Property", "value": 31.5, "observedAt": "2026-11-24T00:01:00Z"}),
    ("pm25", {"value": 31, "type": "Property", "unitCode": "GQ", "createdAt": "ignored"}),
    ("pm25", {"type": "Property", "value": 7, "observedAt": "2026-11-24T07:00:00+07:00"}),
    ("pm25", {"type": "Property", "value": 7, "observedAt": "2026-11-24T00:00:00.120000Z"}),
    ("status", {"type": "Property", "value": "ngập", "modifiedAt": "ignored"}),
    ("online", {"type": "Property", "value": False}),
    ("pm25", {"type": "Property", "value": 1, "observedAt": "2026-02-30T00:00:00Z"}),
    ("pm25", {"type": "Property", "value": 1, "observedAt": "yesterday"}),
    ("pm25", {"type": "Property", "value": None}),
    ("pm25", {"type": "Property", "observedAt": "2026-11-24T00:01:00Z"}),
    ("location", {"type": "Property", "value": "Phan Thiết"}),
    ("bad name", {"type": "Property", "value": 1}),
]


def _parse_all() -> list[bytes | str]:
    ctx = ContextResolver().resolve(None)
    out: list[bytes | str] = []
    for name, value in CASES:
        try:
            out.append(orjson.dumps(entities.parse_attribute(name, dict(value), ctx)))
        except NgsiLdError as err:
            out.append(f"{err.kind}: {err.detail}")
    return out


def test_plain_properties_are_stored_and_refused_as_the_full_parser_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = _parse_all()
    monkeypatch.setattr(entities, "_PLAIN", frozenset())  # every attribute takes the full path
    full = _parse_all()
    assert short == full
    assert short[2] == orjson.dumps(
        {"type": "Property", "value": 7, "observedAt": "2026-11-24T00:00:00Z"}
    )
    assert "observedAt is not an ISO 8601 date-time" in str(short[7])
    assert str(short[6]).startswith("BadRequestData")  # no 30 February
