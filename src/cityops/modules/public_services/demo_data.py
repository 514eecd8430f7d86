"""A synthetic year of dossiers shaped like published one-stop figures, and a bulk loader.

Shape (rates) from Bình Thuận's published 2024 figures, now part of Lâm Đồng (68): 94,665
dossiers received, 99.85% resolved on time, 50,693 (53.6%) submitted online (issue 7 of
CityOps, from the province's 2024 report). Everything generated here is DEMO data ("số liệu
minh họa"): procedures, timings, fees and flags are invented to look plausible.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from cityops.modules.public_services.clock import add_working_days
from cityops.modules.public_services.models import Dossier
from cityops.modules.public_services.summary import Deltas, apply_deltas, contributions

BINH_THUAN_2024 = {"received": 94_665, "on_time_rate": 0.9985, "online": 50_693}
ONLINE_SHARE = BINH_THUAN_2024["online"] / BINH_THUAN_2024["received"]
LATE_SHARE = 1 - BINH_THUAN_2024["on_time_rate"]
DEMO_SOURCE = "demo"

# code, name, field, level, working days allowed, fee (VND), weight. Codes are demo codes.
PROCEDURES = (
    ("demo.ht-01", "Đăng ký khai sinh", "Hộ tịch", "commune", 1, 0, 18),
    ("demo.ht-02", "Đăng ký kết hôn", "Hộ tịch", "commune", 3, 0, 6),
    ("demo.ht-03", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", "commune", 1, 8_000, 10),
    ("demo.ct-01", "Chứng thực bản sao từ bản chính", "Chứng thực", "commune", 1, 2_000, 24),
    ("demo.dd-01", "Đăng ký biến động quyền sử dụng đất", "Đất đai", "province", 10, 0, 8),
    (
        "demo.dd-02",
        "Cấp giấy chứng nhận quyền sử dụng đất lần đầu",
        "Đất đai",
        "province",
        15,
        100_000,
        5,
    ),
    ("demo.xd-01", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", "province", 15, 75_000, 4),
    (
        "demo.kd-01",
        "Đăng ký hộ kinh doanh",
        "Thành lập và hoạt động hộ kinh doanh",
        "commune",
        3,
        100_000,
        6,
    ),
    ("demo.bt-01", "Trợ cấp xã hội hằng tháng", "Bảo trợ xã hội", "commune", 7, 0, 4),
    (
        "demo.yt-01",
        "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh",
        "Khám bệnh, chữa bệnh",
        "province",
        10,
        360_000,
        2,
    ),
    ("demo.gt-01", "Cấp đổi giấy phép lái xe", "Đường bộ", "province", 5, 135_000, 7),
    ("demo.tp-01", "Cấp phiếu lý lịch tư pháp", "Lý lịch tư pháp", "province", 10, 200_000, 6),
)


@dataclass(frozen=True)
class Places:
    """Where dossiers are handled: provincial agencies, and each commune's one-stop office."""

    province_id: int
    province_agencies: list[int]
    communes: list[tuple[int, int]]  # (unit id, its one-stop agency id)


def generate(
    count: int,
    start: datetime,
    end: datetime,
    places: Places,
    procedures: dict[str, int],
    tz: tzinfo,
    seed: int = 2026,
) -> Iterator[dict[str, Any]]:
    """Yield `count` dossiers received between start and end (finished ones before `end`)."""
    rng = random.Random(seed)
    specs = [p for p in PROCEDURES if p[0] in procedures]
    weights = [p[6] for p in specs]
    span = (end - start).total_seconds()
    for n in range(count):
        code, _, _, level, days, fee, _ = rng.choices(specs, weights)[0]
        received = start + timedelta(seconds=span * (n + rng.random()) / count)
        if level == "province":
            unit_id, agency_id = places.province_id, rng.choice(places.province_agencies)
        else:
            unit_id, agency_id = rng.choice(places.communes)
        due = add_working_days(received, days, tz)
        allowed = (due - received).total_seconds()
        if rng.random() < LATE_SHARE:
            finished = due + timedelta(hours=rng.uniform(2, 72))
        else:
            finished = received + timedelta(seconds=allowed * rng.uniform(0.15, 0.98))
        done = finished <= end
        online = rng.random() < ONLINE_SHARE
        yield {
            "source": DEMO_SOURCE,
            "external_id": f"DEMO-{n + 1:07d}",
            "procedure_id": procedures[code],
            "agency_id": agency_id,
            "unit_id": unit_id,
            "received_at": received,
            "due_at": due,
            "finished_at": finished if done else None,
            "channel": "online" if online else rng.choice(("offline",) * 9 + ("postal",)),
            "status": "finished" if done else "processing",
            "fee_vnd": fee or None,
            "online_payment": bool(fee) and online and rng.random() < 0.7,
            "returned": rng.random() < 0.008,
            "additional_request": rng.random() < 0.03,
            "digitised": rng.random() < (0.85 if online else 0.55),
            "near_due_sent": False,
            "overdue_sent": False,
            "updated_at": end,
        }


def bulk_load(
    session: Session, rows: Iterator[dict[str, Any]], tz: tzinfo, chunk: int = 5000
) -> int:
    """Insert generated dossiers and their counts quickly (no per-row checks: trusted input)."""
    deltas: Deltas = {}
    batch: list[dict[str, Any]] = []
    total = 0
    for row in rows:
        batch.append(row)
        for model, key, metrics in contributions(row, tz):
            deltas.setdefault((model, key), Counter()).update(metrics)
        if len(batch) >= chunk:
            session.execute(Dossier.__table__.insert(), batch)
            total += len(batch)
            batch = []
    if batch:
        session.execute(Dossier.__table__.insert(), batch)
        total += len(batch)
    apply_deltas(session, deltas)
    return total
