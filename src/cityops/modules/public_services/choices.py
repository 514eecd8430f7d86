"""Channels, statuses, counter buckets and Decision 766 groups, with labels and colours."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Channel(StrEnum):
    """How a dossier was submitted."""

    online = "online"
    offline = "offline"
    postal = "postal"


CHANNELS: dict[str, Choice] = choice_set(
    Choice(Channel.online, "Trực tuyến", "Online", "#0d6efd"),
    Choice(Channel.offline, "Trực tiếp", "In person", "#6c757d"),
    Choice(Channel.postal, "Qua bưu chính công ích", "By post", "#6610f2"),
)


class DossierStatus(StrEnum):
    """Where a dossier stands in the one-stop system."""

    received = "received"
    processing = "processing"
    awaiting_additional = "awaiting_additional"
    finished = "finished"
    returned = "returned"
    withdrawn = "withdrawn"


OPEN_STATUSES = frozenset(
    {DossierStatus.received, DossierStatus.processing, DossierStatus.awaiting_additional}
)

DOSSIER_STATUSES: dict[str, Choice] = choice_set(
    Choice(DossierStatus.received, "Mới tiếp nhận", "Received", "#0dcaf0"),
    Choice(DossierStatus.processing, "Đang giải quyết", "Being processed", "#0d6efd"),
    Choice(
        DossierStatus.awaiting_additional, "Chờ bổ sung", "Awaiting additional papers", "#ffc107"
    ),
    Choice(DossierStatus.finished, "Đã giải quyết", "Resolved", "#198754"),
    Choice(DossierStatus.returned, "Trả lại / không giải quyết", "Returned", "#dc3545"),
    Choice(DossierStatus.withdrawn, "Công dân rút hồ sơ", "Withdrawn", "#adb5bd"),
)


class Bucket(StrEnum):
    """The counters of a one-stop office's report (báo cáo tình hình giải quyết hồ sơ)."""

    received = "received"
    carried_over = "carried_over"
    to_process = "to_process"
    in_progress = "in_progress"
    in_progress_late = "in_progress_late"
    in_progress_near_late = "in_progress_near_late"
    in_progress_not_due = "in_progress_not_due"
    processed = "processed"
    processed_early = "processed_early"
    processed_on_time = "processed_on_time"
    processed_late = "processed_late"


BUCKETS: dict[str, Choice] = choice_set(
    Choice(Bucket.received, "Tiếp nhận trong kỳ", "Received in the period", "#0d6efd"),
    Choice(Bucket.carried_over, "Kỳ trước chuyển qua", "Carried over", "#6c757d"),
    Choice(Bucket.to_process, "Tổng số phải giải quyết", "To process", "#212529"),
    Choice(Bucket.in_progress, "Đang giải quyết", "In progress", "#0dcaf0"),
    Choice(Bucket.in_progress_late, "Đang giải quyết - quá hạn", "In progress, late", "#dc3545"),
    Choice(
        Bucket.in_progress_near_late,
        "Đang giải quyết - sắp đến hạn",
        "In progress, near-late",
        "#fd7e14",
    ),
    Choice(
        Bucket.in_progress_not_due,
        "Đang giải quyết - chưa đến hạn",
        "In progress, not yet due",
        "#20c997",
    ),
    Choice(Bucket.processed, "Đã giải quyết", "Processed", "#198754"),
    Choice(Bucket.processed_early, "Giải quyết trước hạn", "Processed early", "#157347"),
    Choice(Bucket.processed_on_time, "Giải quyết đúng hạn", "Processed on time", "#198754"),
    Choice(Bucket.processed_late, "Giải quyết quá hạn", "Processed late", "#dc3545"),
)


@dataclass(frozen=True)
class IndexGroup:
    """A component of the Decision 766 index: its points and how its rate is found."""

    key: str
    label_vi: str
    label_en: str
    points: float
    # "dossiers": computed from the dossiers; else the indicator code entered in the engine.
    source: str


# Decision 766/QĐ-TTg (23 June 2022) scores provinces out of 100 points. The split below is
# the one the National Public Service Portal shows (as reported by Báo Quảng Nam, Oct. 2023:
# "Công khai, minh bạch .../18; Tiến độ giải quyết .../20; DVC trực tuyến .../12; Thanh toán
# trực tuyến .../10; Mức độ hài lòng .../18; Số hóa hồ sơ .../22"), where the decision's
# online-service group appears as two parts (12 + 10). The sub-indicators inside each group
# and their exact formulas are NOT confirmed here: CityOps scores a group linearly
# (points x rate, the rate in %) from the dossiers, or from the latest value (a % score) of
# the indicator named as its source in the indicator engine: an approximation.
PUBLIC_INFO, SATISFACTION = "PS766_PUBLIC_INFO", "PS766_SATISFACTION"
INDEX_GROUPS: tuple[IndexGroup, ...] = (
    IndexGroup(
        "public_info", "Công khai, minh bạch", "Public information", 18, "PS766_PUBLIC_INFO"
    ),
    IndexGroup("progress", "Tiến độ giải quyết", "Progress of resolution", 20, "dossiers"),
    IndexGroup("online", "Dịch vụ công trực tuyến", "Online public services", 12, "dossiers"),
    IndexGroup("payment", "Thanh toán trực tuyến", "Online payment", 10, "dossiers"),
    IndexGroup("satisfaction", "Mức độ hài lòng", "Satisfaction", 18, SATISFACTION),
    IndexGroup("digitisation", "Số hóa hồ sơ", "Digitisation of dossiers", 22, "dossiers"),
)
