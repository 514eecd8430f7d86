"""Statuses, urgencies and sources of field reports, with their labels and dashboard colours."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Status(StrEnum):
    """Where a report is in its life."""

    received = "received"
    verified = "verified"
    assigned = "assigned"
    returned = "returned"
    accepted = "accepted"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"
    invalid = "invalid"
    duplicate = "duplicate"
    spam = "spam"


STATUSES: dict[str, Choice] = choice_set(
    Choice(Status.received, "Mới tiếp nhận", "Received", "#6c757d"),
    Choice(Status.verified, "Đã xác minh", "Verified", "#0dcaf0"),
    Choice(Status.assigned, "Đã chuyển xử lý", "Assigned", "#0d6efd"),
    Choice(Status.returned, "Cơ quan trả lại", "Returned by the agency", "#fd7e14"),
    Choice(Status.accepted, "Cơ quan đã nhận", "Accepted", "#6610f2"),
    Choice(Status.in_progress, "Đang xử lý", "In progress", "#ffc107"),
    Choice(Status.resolved, "Đã xử lý xong", "Resolved", "#198754"),
    Choice(Status.closed, "Đã đóng", "Closed", "#20c997"),
    Choice(Status.invalid, "Không hợp lệ", "Invalid", "#adb5bd"),
    Choice(Status.duplicate, "Trùng lặp", "Duplicate", "#adb5bd"),
    Choice(Status.spam, "Tin rác", "Spam", "#495057"),
)


class Urgency(StrEnum):
    """How fast a report must be handled."""

    urgent = "urgent"
    complex = "complex"
    normal = "normal"


URGENCIES: dict[str, Choice] = choice_set(
    Choice(Urgency.urgent, "Khẩn cấp", "Urgent", "#dc3545"),
    Choice(Urgency.complex, "Phức tạp", "Complex", "#fd7e14"),
    Choice(Urgency.normal, "Bình thường", "Normal", "#0d6efd"),
)


class Source(StrEnum):
    """Where a report came from."""

    public = "public"
    staff = "staff"
    open311 = "open311"


SOURCES: dict[str, Choice] = choice_set(
    Choice(Source.public, "Người dân gửi trực tuyến", "Citizen, online", "#0d6efd"),
    Choice(Source.staff, "Cán bộ nhập", "Entered by staff", "#6c757d"),
    Choice(Source.open311, "Ứng dụng Open311", "Open311 application", "#6610f2"),
)

REJECTED = frozenset({Status.invalid, Status.duplicate, Status.spam})
DONE = frozenset({Status.resolved, Status.closed})
# Open311 "closed": nothing more will happen without a reopen.
FINISHED = DONE | REJECTED
# The agency's clock runs in these states.
WITH_AGENCY = frozenset({Status.assigned, Status.accepted, Status.in_progress})
# Public views show the description and photos only once an operator has looked at them.
MODERATED = frozenset(Status) - REJECTED - {Status.received}
