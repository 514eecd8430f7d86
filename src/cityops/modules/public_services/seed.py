"""Demo data: one-stop offices, procedures, this year's dossiers for Lâm Đồng (68), and the
two Decision 766 components entered by hand (public information, satisfaction).

Dossier volume and rates follow Bình Thuận's published 2024 figures (see demo_data.py), scaled
by SCALE and by the part of the year elapsed; every figure is labelled demo.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.auth import people
from cityops.core.auth.models import Agency
from cityops.core.auth.schemas import AgencyCreate
from cityops.core.config import PublicServicesSettings
from cityops.core.db import utcnow
from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.indicators import catalogue, values
from cityops.modules.indicators.choices import DEMO_SOURCE
from cityops.modules.indicators.models import Indicator
from cityops.modules.indicators.schemas import IndicatorCreate, ValuePut
from cityops.modules.public_services.choices import PUBLIC_INFO, SATISFACTION
from cityops.modules.public_services.clock import local_tz
from cityops.modules.public_services.demo_data import (
    BINH_THUAN_2024,
    PROCEDURES,
    Places,
    bulk_load,
    generate,
)
from cityops.modules.public_services.models import Dossier, Procedure

log = logging.getLogger("cityops.public_services.seed")
PROVINCE = "68"
SCALE = 0.25
SYSTEM = system_principal("demo-seed")
PROVINCE_AGENCIES = (
    (
        "TTPVHCC-LD",
        "Trung tâm Phục vụ hành chính công tỉnh Lâm Đồng",
        "Lâm Đồng Public Service Centre",
    ),
    ("SXD-LD", "Sở Xây dựng tỉnh Lâm Đồng", "Lâm Đồng Department of Construction"),
    ("SNNMT-LD", "Sở Nông nghiệp và Môi trường tỉnh Lâm Đồng", "Lâm Đồng Dept. of Agriculture"),
    ("SYT-LD", "Sở Y tế tỉnh Lâm Đồng", "Lâm Đồng Department of Health"),
)
# (code, name_vi, name_en, monthly demo scores in %) entered through the indicator engine.
ENTERED = (
    (PUBLIC_INFO, "Công khai, minh bạch (QĐ 766)", "Public information (Decision 766)", 76.0),
    (SATISFACTION, "Mức độ hài lòng (QĐ 766)", "Satisfaction (Decision 766)", 94.0),
)


def _agency(session: Session, code: str, name: str, name_en: str | None, unit: Unit) -> int:
    """Return an agency's id, creating it (audited) when missing."""
    found = session.scalar(select(Agency.id).where(Agency.code == code))
    if found is not None:
        return found
    data = AgencyCreate(code=code, name=name, name_en=name_en, unit_code=unit.code)
    return people.create_agency(session, SYSTEM, data).id


def _places(session: Session, province: Unit) -> Places:
    """The provincial agencies and one one-stop office per commune of the province."""
    provincial = [_agency(session, c, n, e, province) for c, n, e in PROVINCE_AGENCIES]
    communes = session.scalars(
        select(Unit).where(Unit.parent_id == province.id, Unit.level == "commune")
    ).all()
    offices = [
        (u.id, _agency(session, f"MC-{u.code}", f"Bộ phận một cửa {u.name}", None, u))
        for u in sorted(communes, key=lambda u: u.code)
    ]
    return Places(province.id, provincial, offices)


def _procedures(session: Session) -> dict[str, int]:
    ids = {}
    for code, name, field, level, *_ in PROCEDURES:
        proc = session.scalar(select(Procedure).where(Procedure.code == code))
        if proc is None:
            proc = Procedure(code=code, name=name, field=field, level=level)
            session.add(proc)
            session.flush()
        ids[code] = proc.id
    return ids


def _entered(session: Session, province: Unit, now: datetime) -> None:
    """Add the hand-entered 766 components with a demo value per month so far."""
    for order, (code, name_vi, name_en, score) in enumerate(ENTERED):
        if session.scalar(select(Indicator.id).where(Indicator.code == code)):
            continue
        data = IndicatorCreate(
            code=code,
            name_vi=name_vi,
            name_en=name_en,
            unit_of_measure="%",
            group="Dịch vụ công",
            aggregation="average",
            agency_code="TTPVHCC-LD",
            description=f"Điểm thành phần Bộ chỉ số QĐ 766/QĐ-TTg (%). {DEMO_SOURCE}.",
            sort_order=900 + order,
        )
        indicator = catalogue.create_indicator(session, SYSTEM, data)
        for month in range(1, now.month + 1):
            value = ValuePut(
                unit_code=province.code,
                period=f"{now.year}-{month:02d}",
                value=round(score - 3 + month * 0.3, 1),
                source=DEMO_SOURCE,
            )
            values.store(session, SYSTEM, indicator, province, value)


def seed_demo(session: Session, now: datetime | None = None, scale: float = SCALE) -> int:
    """Load this year's demo dossiers (once); return how many were inserted."""
    province = session.scalar(select(Unit).where(Unit.code == PROVINCE))
    if province is None or session.scalar(select(Dossier.id).limit(1)) is not None:
        return 0
    started = time.perf_counter()
    now = now or utcnow()
    tz = local_tz(PublicServicesSettings())
    start = datetime(now.astimezone(tz).year, 1, 1, tzinfo=tz).astimezone(UTC)
    share = (now - start).total_seconds() / (365 * 86400)
    count = max(1, int(BINH_THUAN_2024["received"] * scale * share))
    places = _places(session, province)
    rows = generate(count, start, now, places, _procedures(session), tz)
    inserted = bulk_load(session, rows, tz)
    _entered(session, province, now.astimezone(tz))
    log.info("demo dossiers: %d in %.1f s", inserted, time.perf_counter() - started)
    return inserted
