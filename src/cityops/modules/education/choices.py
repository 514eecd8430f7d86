"""School levels, with labels and colours."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Level(StrEnum):
    """The level of a school (cấp học)."""

    preschool = "mam_non"
    primary = "tieu_hoc"
    lower_secondary = "thcs"
    upper_secondary = "thpt"


LEVELS: dict[str, Choice] = choice_set(
    Choice(Level.preschool, "Mầm non", "Preschool", "#20c997"),
    Choice(Level.primary, "Tiểu học", "Primary", "#0d6efd"),
    Choice(Level.lower_secondary, "Trung học cơ sở (THCS)", "Lower secondary", "#6f42c1"),
    Choice(Level.upper_secondary, "Trung học phổ thông (THPT)", "Upper secondary", "#fd7e14"),
)

DEMO_SOURCE = "Số liệu minh họa (demo), không phải số liệu thống kê chính thức"
