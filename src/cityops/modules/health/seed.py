"""Demo data of the health module for Lâm Đồng (68): facilities, weekly cases, coverage.

Every figure is illustrative (số liệu minh họa), and facility coordinates are approximate;
both say so in the data. Cases cover the 42 weeks before today, with two planted outbreaks
(dengue in Phan Thiết, hand-foot-mouth in Lâm Viên - Đà Lạt) for the signal list to show.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.health import cases, ears, facilities, indicators
from cityops.modules.health.choices import DEMO_SOURCE, Level
from cityops.modules.health.models import CaseCount
from cityops.modules.health.schemas import FacilityCreate, FacilityUpdate
from cityops.modules.indicators.catalogue import put_target
from cityops.modules.indicators.schemas import TargetPut, ValuePut
from cityops.modules.indicators.values import store

H, C, S = Level.hospital, Level.health_centre, Level.station
# code, name, level, commune, lat, lon (approximate), planned beds, occupancy share
FACILITIES = (
    ("BVDK-LD", "Bệnh viện Đa khoa tỉnh Lâm Đồng", H, "24781", 11.9465, 108.4419, 1000, 0.92),
    (
        "BVDK-BT",
        "Bệnh viện Đa khoa tỉnh (cơ sở Phan Thiết)",
        H,
        "22945",
        10.9336,
        108.1002,
        900,
        1.04,
    ),
    (
        "BVDK-DN",
        "Bệnh viện Đa khoa tỉnh (cơ sở Gia Nghĩa)",
        H,
        "24615",
        12.0005,
        107.6903,
        500,
        0.81,
    ),
    ("BV-BL", "Bệnh viện II Lâm Đồng (Bảo Lộc)", H, "24829", 11.5480, 107.8070, 600, 0.88),
    ("TTYT-DT", "Trung tâm Y tế khu vực Đức Trọng", C, "24958", 11.7360, 108.3730, 250, 0.74),
    ("TTYT-DL", "Trung tâm Y tế khu vực Di Linh", C, "25000", 11.5790, 108.0710, 220, 0.69),
    ("TTYT-LG", "Trung tâm Y tế khu vực La Gi", C, "23235", 10.6640, 107.7700, 280, 0.86),
    ("TTYT-TP", "Trung tâm Y tế khu vực Tuy Phong", C, "22978", 11.2320, 108.7200, 200, 0.71),
    ("TYT-MUINE", "Trạm Y tế phường Mũi Né", S, "22918", 10.9450, 108.2850, 5, 0.4),
    ("TYT-HAMTHANG", "Trạm Y tế phường Hàm Thắng", S, "22933", 10.9600, 108.1300, 5, 0.2),
    ("TYT-LAMVIEN", "Trạm Y tế phường Lâm Viên - Đà Lạt", S, "24778", 11.9400, 108.4500, 5, 0.6),
    (
        "TYT-LANGBIANG",
        "Trạm Y tế phường Lang Biang - Đà Lạt",
        S,
        "24846",
        12.0450,
        108.4400,
        5,
        0.2,
    ),
    ("TYT-BACGN", "Trạm Y tế phường Bắc Gia Nghĩa", S, "24611", 12.0100, 107.6950, 5, 0.0),
    ("TYT-PHANRICUA", "Trạm Y tế xã Phan Rí Cửa", S, "22972", 11.1700, 108.5600, 5, 0.4),
)
COMMUNES = ("22918", "22933", "22945", "23235", "24778", "24781", "24611", "24829", "24958")
# disease -> usual weekly cases per commune (mean of a small Poisson-like draw)
USUAL = {"dengue": 2.0, "hfmd": 1.5, "measles": 0.2}
OUTBREAKS = {("dengue", "22945"): (5, 11, 19), ("hfmd", "24778"): (4, 9, 0)}
WEEKS = 42  # the first 12 only give the later weeks their EARS history


def _facilities(session: Session, units: dict[str, Unit]) -> None:
    actor = system_principal("demo-seed")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for code, name, level, commune, lat, lon, beds, share in FACILITIES:
        data = FacilityCreate(
            code=code,
            name=name,
            level=level,
            unit_code=commune,
            lat=lat,
            lon=lon,
            address=f"{units[commune].name} (vị trí gần đúng / approximate location)",
            beds=beds,
        )
        facilities.save(session, actor, data, units[commune])
        for days, drift in ((2, -0.05), (1, -0.02), (0, 0.0)):
            occupied = round(beds * max(share + drift, 0.0))
            at = now - timedelta(days=days)
            facilities.set_occupancy(
                session, actor, code, FacilityUpdate(occupied_beds=occupied, observed_at=at)
            )


def _draw(rng: random.Random, usual: float) -> int:
    return sum(1 for _ in range(6) if rng.random() < usual / 6)


def _cases(session: Session, units: dict[str, Unit], today: date) -> None:
    rng = random.Random(68)
    last = today - timedelta(days=today.weekday() + 7)  # Monday of the last full week
    rows = []
    for commune in COMMUNES:
        for disease, usual in USUAL.items():
            planted = OUTBREAKS.get((disease, commune), ())
            for back in range(WEEKS - 1, -1, -1):
                cases_n = planted[back] if back < len(planted) else _draw(rng, usual)
                rows.append(
                    CaseCount(
                        disease=disease,
                        unit_id=units[commune].id,
                        week_start=last - timedelta(weeks=back),
                        cases=cases_n,
                        deaths=0,
                        source=DEMO_SOURCE,
                        entered_by="system:0:demo-seed",
                    )
                )
    session.add_all(rows)
    session.flush()
    first = last - timedelta(weeks=WEEKS - ears.HISTORY)
    keys = [(r.disease, r.unit_id, r.week_start) for r in rows if r.week_start >= first]
    cases.detect(session, keys, publish=False)


def _vaccination(session: Session, units: dict[str, Unit], province: Unit, today: date) -> None:
    actor = system_principal("demo-seed")
    indicator = indicators.ensure(session)[indicators.VACCINATION]
    put_target(
        session, actor, indicator, TargetPut(unit_code=province.code, year=today.year, value=95)
    )
    rng = random.Random(95)
    for commune in COMMUNES:
        level = rng.uniform(88.0, 99.0)
        for month in range(1, today.month):
            value = round(min(100.0, level + rng.uniform(-2.5, 2.5)), 1)
            data = ValuePut(
                unit_code=commune,
                period=f"{today.year}-{month:02d}",
                value=value,
                source=DEMO_SOURCE,
            )
            store(session, actor, indicator, units[commune], data)


def seed_demo(session: Session, today: date | None = None) -> None:
    """Load the health demo data for province 68 (once; needs the core demo's unit tree)."""
    from cityops.modules.indicators.seed import seed_demo as seed_indicators

    province = session.scalar(select(Unit).where(Unit.code == "68"))
    if province is None or session.scalar(select(CaseCount.id).limit(1)) is not None:
        return
    seed_indicators(session)  # the engine's own demo first: it loads only into an empty catalogue
    codes = {f[3] for f in FACILITIES} | set(COMMUNES)
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    _facilities(session, units)
    day = today or date.today()
    _cases(session, units, day)
    _vaccination(session, units, province, day)
    session.flush()
