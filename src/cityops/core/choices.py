"""Choice sets: statuses, severities and the like, in both languages with their dashboard colour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    """One value of a choice set, in both languages, with its dashboard colour."""

    value: str
    label_vi: str
    label_en: str
    colour: str


def choice_set(*choices: Choice) -> dict[str, Choice]:
    """Index choices by value, keeping their order (the order the UI lists them in)."""
    return {c.value: c for c in choices}
