"""EntityChanged made by events.entity_changed (the batch path) equals the dataclass's own."""

from __future__ import annotations

import dataclasses

import pytest

from cityops.context.events import EntityChanged, entity_changed

REQUIRED = {"op": "update", "tenant": "", "entity_id": "urn:ngsi-ld:X:1", "entity_type": "X"}


def test_defaults_match_the_dataclass() -> None:
    assert entity_changed(**REQUIRED) == EntityChanged(**REQUIRED)
    made = entity_changed(**REQUIRED)
    assert set(made.__dict__) == {f.name for f in dataclasses.fields(EntityChanged)}


def test_given_fields_are_kept_and_defaults_are_not_shared() -> None:
    full = REQUIRED | {
        "attrs": ["https://example.org/a"],
        "unit_id": 7,
        "at": "2026-11-25T00:00:00Z",
        "entity": {"id": "urn:ngsi-ld:X:1"},
        "previous": {"https://example.org/a": {"type": "Property", "value": 1}},
        "times": ("a", "b"),
    }
    assert entity_changed(**full) == EntityChanged(**full)
    one, two = entity_changed(**REQUIRED), entity_changed(**REQUIRED)
    one.deleted.append({"attr": "x"})
    assert two.deleted == [] and one.previous is not two.previous


def test_it_stays_frozen_like_the_dataclass() -> None:
    made = entity_changed(**REQUIRED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.op = "delete"  # type: ignore[misc]
    assert made.to_dict()["event"] == "context.entity_changed"
