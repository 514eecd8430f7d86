"""Severities, statuses and rule kinds of alerts, in both languages with their colours."""

from __future__ import annotations

from cityops.core.choices import Choice, choice_set

SEVERITIES = choice_set(
    Choice("critical", "Khẩn cấp", "Critical", "#b71c1c"),
    Choice("major", "Nghiêm trọng", "Major", "#e65100"),
    Choice("minor", "Trung bình", "Minor", "#f9a825"),
    Choice("warning", "Cảnh báo", "Warning", "#fbc02d"),
    Choice("info", "Thông tin", "Info", "#1565c0"),
)

STATUSES = choice_set(
    Choice("open", "Mới", "Open", "#d32f2f"),
    Choice("acknowledged", "Đã xác nhận", "Acknowledged", "#f57c00"),
    Choice("in_progress", "Đang xử lý", "In progress", "#1976d2"),
    Choice("resolved", "Đã xử lý xong", "Resolved", "#388e3c"),
    Choice("cleared", "Đã tự hết", "Cleared", "#689f38"),
    Choice("closed", "Đã đóng", "Closed", "#616161"),
)

RULE_KINDS = choice_set(
    Choice("threshold", "Vượt ngưỡng", "Threshold", "#c62828"),
    Choice("rate_of_change", "Biến đổi nhanh", "Rate of change", "#ad1457"),
    Choice("absence", "Mất tín hiệu", "Absence (heartbeat)", "#6a1b9a"),
    Choice("count_window", "Dồn dập trong vùng", "Count in a window", "#283593"),
    Choice("event", "Sự kiện", "Event", "#00695c"),
    Choice("geofence", "Vào/ra vùng", "Geofence enter/leave", "#4e342e"),
)

# Statuses of an alert still being handled: at most one per dedup key (active_key set).
ACTIVE = frozenset({"open", "acknowledged", "in_progress"})

# action -> (statuses it may start from, status it leads to; None: the status stays)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "acknowledge": (frozenset({"open"}), "acknowledged"),
    "start": (frozenset({"open", "acknowledged"}), "in_progress"),
    "assign": (ACTIVE, None),
    "escalate": (ACTIVE, None),
    "comment": (frozenset(STATUSES), None),
    "resolve": (ACTIVE, "resolved"),
    "clear": (ACTIVE, "cleared"),
    "close": (frozenset({"open", "acknowledged", "in_progress", "resolved", "cleared"}), "closed"),
    "reopen": (frozenset({"resolved", "cleared", "closed"}), "open"),
}
