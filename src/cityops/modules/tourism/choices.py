"""Kinds of tourism places, with labels and colours."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Kind(StrEnum):
    """What a tourism place is; it decides its Smart Data Models type."""

    attraction = "attraction"
    accommodation = "accommodation"
    destination = "destination"


KINDS: dict[str, Choice] = choice_set(
    Choice(Kind.attraction, "Điểm tham quan", "Attraction", "#198754"),
    Choice(Kind.accommodation, "Cơ sở lưu trú", "Accommodation", "#0d6efd"),
    Choice(Kind.destination, "Khu, điểm du lịch", "Tourist destination", "#6f42c1"),
)

DEMO_SOURCE = "Số liệu minh họa (demo), không phải số liệu thống kê chính thức"
