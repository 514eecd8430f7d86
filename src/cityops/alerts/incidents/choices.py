"""Statuses, task statuses and hazards of incidents, with labels and dashboard colours."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Status(StrEnum):
    """Where an incident is in its life."""

    open = "open"
    responding = "responding"
    contained = "contained"
    closed = "closed"


STATUSES: dict[str, Choice] = choice_set(
    Choice(Status.open, "Mới mở", "Open", "#dc3545"),
    Choice(Status.responding, "Đang ứng phó", "Responding", "#fd7e14"),
    Choice(Status.contained, "Đã kiểm soát", "Contained", "#0dcaf0"),
    Choice(Status.closed, "Đã kết thúc", "Closed", "#198754"),
)

# The moves an incident may make; anything else is refused with 409.
MOVES: dict[str, frozenset[str]] = {
    Status.open: frozenset({Status.responding, Status.closed}),
    Status.responding: frozenset({Status.contained}),
    Status.contained: frozenset({Status.responding, Status.closed}),
    Status.closed: frozenset(),
}


class TaskStatus(StrEnum):
    """Where one SOP step of an incident is."""

    todo = "todo"
    in_progress = "in_progress"
    done = "done"
    skipped = "skipped"


TASK_STATUSES: dict[str, Choice] = choice_set(
    Choice(TaskStatus.todo, "Chưa làm", "To do", "#6c757d"),
    Choice(TaskStatus.in_progress, "Đang làm", "In progress", "#ffc107"),
    Choice(TaskStatus.done, "Đã xong", "Done", "#198754"),
    Choice(TaskStatus.skipped, "Bỏ qua", "Skipped", "#adb5bd"),
)

FINISHED_TASKS = frozenset({TaskStatus.done, TaskStatus.skipped})


class Hazard(StrEnum):
    """What kind of danger an incident or SOP is about."""

    flood = "flood"
    landslide = "landslide"
    forest_fire = "forest_fire"
    air_pollution = "air_pollution"
    traffic_accident = "traffic_accident"
    other = "other"


HAZARDS: dict[str, Choice] = choice_set(
    Choice(Hazard.flood, "Ngập lụt", "Flood", "#0d6efd"),
    Choice(Hazard.landslide, "Sạt lở đất", "Landslide", "#795548"),
    Choice(Hazard.forest_fire, "Cháy rừng", "Forest fire", "#dc3545"),
    Choice(Hazard.air_pollution, "Ô nhiễm không khí", "Air pollution", "#6f42c1"),
    Choice(Hazard.traffic_accident, "Tai nạn giao thông", "Traffic accident", "#fd7e14"),
    Choice(Hazard.other, "Khác", "Other", "#6c757d"),
)
