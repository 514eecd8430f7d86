"""Demo data of the tourism module for Lâm Đồng (68): places, events, monthly figures.

Coordinates are approximate and accommodation names are demo names; every figure is
illustrative (số liệu minh họa), not an official statistic, and the data say so. Events are
dated from the day of seeding so that the visitor page always has upcoming ones, and the
monthly figures cover last year and this year up to last month.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.indicators.catalogue import put_target
from cityops.modules.indicators.models import Value
from cityops.modules.indicators.schemas import TargetPut, ValuePut
from cityops.modules.indicators.values import store
from cityops.modules.tourism import places, stats
from cityops.modules.tourism.choices import DEMO_SOURCE, Kind
from cityops.modules.tourism.schemas import EventCreate, PlaceCreate

A, H, D = Kind.attraction, Kind.accommodation, Kind.destination
APPROX = "vị trí gần đúng / approximate location"
# code, kind, category, name, commune, lat, lon, rooms, stars, description
PLACES = (
    (
        "HO-XUAN-HUONG",
        A,
        "nature",
        "Hồ Xuân Hương",
        "24781",
        11.9416,
        108.4419,
        None,
        None,
        "Hồ nước giữa trung tâm Đà Lạt / the lake at the heart of Đà Lạt",
    ),
    (
        "CHO-DA-LAT",
        A,
        "market",
        "Chợ Đà Lạt",
        "24781",
        11.9430,
        108.4366,
        None,
        None,
        "Chợ trung tâm và chợ đêm / central and night market",
    ),
    (
        "NUI-LANGBIANG",
        A,
        "nature",
        "Núi Langbiang",
        "24846",
        12.0470,
        108.4400,
        None,
        None,
        "Đỉnh núi 2.167 m, đường mòn và xe jeep / a 2,167 m peak, trails and jeep rides",
    ),
    (
        "DOI-CAT-MUI-NE",
        A,
        "nature",
        "Đồi cát Mũi Né",
        "22918",
        10.9650,
        108.3000,
        None,
        None,
        "Đồi cát đỏ ven biển / red coastal sand dunes",
    ),
    (
        "SUOI-TIEN",
        A,
        "nature",
        "Suối Tiên Mũi Né",
        "22918",
        10.9460,
        108.2700,
        None,
        None,
        "Suối cạn giữa đồi cát đỏ / a shallow stream between red dunes",
    ),
    (
        "BIEN-DOI-DUONG",
        A,
        "beach",
        "Bãi biển Đồi Dương",
        "22945",
        10.9290,
        108.1100,
        None,
        None,
        "Bãi biển trung tâm Phan Thiết / Phan Thiết's city beach",
    ),
    (
        "KDL-MUI-NE",
        D,
        "coast",
        "Khu du lịch Mũi Né",
        "22918",
        10.9600,
        108.2500,
        None,
        None,
        "Khu du lịch quốc gia Mũi Né / Mũi Né national tourist area",
    ),
    (
        "KS-DL-01",
        H,
        "hotel",
        "Khách sạn minh họa Đà Lạt",
        "24781",
        11.9400,
        108.4380,
        120,
        4,
        "Tên minh họa / demo name",
    ),
    (
        "KS-MN-01",
        H,
        "resort",
        "Khu nghỉ dưỡng minh họa Mũi Né",
        "22918",
        10.9620,
        108.2300,
        180,
        5,
        "Tên minh họa / demo name",
    ),
    (
        "HS-DL-01",
        H,
        "homestay",
        "Homestay minh họa Lang Biang",
        "24846",
        12.0300,
        108.4420,
        8,
        None,
        "Tên minh họa / demo name",
    ),
)
# code, name, commune, lat, lon, days from today to start, length in days, category
EVENTS = (
    (
        "FESTIVAL-HOA",
        "Festival Hoa Đà Lạt (minh họa)",
        "24781",
        11.9395,
        108.4460,
        17,
        5,
        "festival",
    ),
    (
        "MUINE-RUN",
        "Giải chạy bờ biển Mũi Né (minh họa)",
        "22918",
        10.9450,
        108.2800,
        40,
        1,
        "sport",
    ),
    ("TRA-BLAO", "Ngày hội trà B'Lao (minh họa)", "24829", 11.5480, 107.8070, 75, 3, "fair"),
    ("DA-QUA", "Đêm nhạc đã diễn ra (minh họa)", "24781", 11.9410, 108.4400, -30, 1, "music"),
)
# Last year's monthly figures for the province: domestic arrivals (thousand), international
# (thousand), room occupancy %, revenue (billion VND); this year grows 9 % on them.
SEASON = (1.25, 1.35, 0.85, 0.95, 1.0, 1.2, 1.25, 1.05, 0.8, 0.85, 0.9, 1.15)
DOMESTIC_K, INTERNATIONAL_K, OCCUPANCY, REVENUE_PER_K = 1600, 85, 58.0, 2.6


def _places(session: Session, units: dict[str, Unit], today: date) -> None:
    actor = system_principal("demo-seed")
    for code, kind, category, name, commune, lat, lon, rooms, stars, about in PLACES:
        data = PlaceCreate(
            code=code,
            kind=kind,
            category=category,
            name=name,
            unit_code=commune,
            lat=lat,
            lon=lon,
            address=APPROX,
            rooms=rooms,
            star_rating=stars,
            description=about,
        )
        places.save_place(session, actor, data, units[commune])
    for code, name, commune, lat, lon, start, days, category in EVENTS:
        first = today + timedelta(days=start)
        data = EventCreate(
            code=code,
            name=name,
            unit_code=commune,
            lat=lat,
            lon=lon,
            address=APPROX,
            category=category,
            start_date=first,
            end_date=first + timedelta(days=days - 1),
        )
        places.save_event(session, actor, data, units[commune])


def _figures(session: Session, province: Unit, today: date) -> None:
    actor = system_principal("demo-seed")
    found = stats.ensure(session)
    rng = random.Random(2025)
    put_target(
        session,
        actor,
        found[stats.DOMESTIC],
        TargetPut(unit_code="68", year=today.year, value=DOMESTIC_K * 1000 * 12 * 1.1),
    )
    for year, growth in ((today.year - 1, 1.0), (today.year, 1.09)):
        for month in range(1, 13):
            if (year, month) >= (today.year, today.month):
                break
            s = SEASON[month - 1] * growth * rng.uniform(0.96, 1.04)
            domestic = round(DOMESTIC_K * 1000 * s)
            figures = {
                stats.DOMESTIC: domestic,
                stats.INTERNATIONAL: round(INTERNATIONAL_K * 1000 * s * rng.uniform(0.9, 1.1)),
                stats.OCCUPANCY: round(min(92.0, OCCUPANCY * s), 1),
                stats.REVENUE: round(domestic / 1000 * REVENUE_PER_K, 1),
            }
            for code, value in figures.items():
                data = ValuePut(
                    unit_code=province.code,
                    period=f"{year}-{month:02d}",
                    value=value,
                    source=DEMO_SOURCE,
                )
                store(session, actor, found[code], province, data)


def seed_demo(session: Session, today: date | None = None) -> None:
    """Load the tourism demo data for province 68 (once; needs the core demo's unit tree)."""
    from cityops.modules.indicators.seed import seed_demo as seed_indicators

    province = session.scalar(select(Unit).where(Unit.code == "68"))
    if province is None:
        return
    seed_indicators(session)  # the engine's own demo first: it loads only into an empty catalogue
    found = stats.registered(session)
    if stats.DOMESTIC in found and session.scalar(
        select(Value.id).where(Value.indicator_id == found[stats.DOMESTIC].id).limit(1)
    ):
        return
    codes = {p[4] for p in PLACES} | {e[2] for e in EVENTS}
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    day = today or date.today()
    _places(session, units, day)
    _figures(session, province, day)
    session.flush()
