"""Frequencies, aggregation rules and target statuses of indicators, with labels and colours."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Frequency(StrEnum):
    """How often an indicator is reported."""

    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


FREQUENCIES: dict[str, Choice] = choice_set(
    Choice(Frequency.monthly, "Hằng tháng", "Monthly", "#0d6efd"),
    Choice(Frequency.quarterly, "Hằng quý", "Quarterly", "#6610f2"),
    Choice(Frequency.yearly, "Hằng năm", "Yearly", "#6c757d"),
)


class Aggregation(StrEnum):
    """How a unit's value is computed from its children when it has none of its own."""

    sum = "sum"
    average = "average"
    weighted = "weighted"
    none = "none"


AGGREGATIONS: dict[str, Choice] = choice_set(
    Choice(Aggregation.sum, "Cộng dồn các đơn vị con", "Sum of the children", "#0d6efd"),
    Choice(Aggregation.average, "Trung bình các đơn vị con", "Mean of the children", "#6610f2"),
    Choice(Aggregation.weighted, "Bình quân gia quyền", "Weighted mean of the children", "#6f42c1"),
    Choice(Aggregation.none, "Không tổng hợp", "Not aggregable", "#adb5bd"),
)


class Status(StrEnum):
    """How a value stands against its (pro-rata) target."""

    green = "green"
    amber = "amber"
    red = "red"
    no_target = "no_target"
    no_value = "no_value"


STATUSES: dict[str, Choice] = choice_set(
    Choice(Status.green, "Đạt kế hoạch", "On target", "#198754"),
    Choice(Status.amber, "Gần đạt (từ 90%)", "Near target (90% or more)", "#ffc107"),
    Choice(Status.red, "Không đạt (dưới 90%)", "Off target (below 90%)", "#dc3545"),
    Choice(Status.no_target, "Chưa giao chỉ tiêu", "No target set", "#6c757d"),
    Choice(Status.no_value, "Chưa có số liệu", "No value reported", "#adb5bd"),
)

GREEN_AT = 100.0
AMBER_AT = 90.0
DEMO_SOURCE = "Số liệu minh họa (demo), không phải số liệu thống kê chính thức"
