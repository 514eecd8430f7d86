"""Demo data: eleven usual provincial indicators, 2026 targets and Jan-Oct 2026 values (68).

The numbers are illustrative ("số liệu minh họa"), not official statistics; every value and
target says so in its source/note.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.auth import people
from cityops.core.auth.models import Agency
from cityops.core.auth.schemas import AgencyCreate
from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.indicators.choices import DEMO_SOURCE
from cityops.modules.indicators.models import Indicator, Target, Value
from cityops.modules.indicators.periods import Frequency, Period

PROVINCE = "68"
YEAR = 2026
AGENCIES = (
    ("STC-LD", "Sở Tài chính tỉnh Lâm Đồng", "Lâm Đồng Department of Finance"),
    ("SCT-LD", "Sở Công Thương tỉnh Lâm Đồng", "Lâm Đồng Department of Industry and Trade"),
    ("SNV-LD", "Sở Nội vụ tỉnh Lâm Đồng", "Lâm Đồng Department of Home Affairs"),
    (
        "SVHTTDL-LD",
        "Sở Văn hóa, Thể thao và Du lịch tỉnh Lâm Đồng",
        "Lâm Đồng Dept. of Culture, Sports and Tourism",
    ),
    ("VP-UBND-LD", "Văn phòng UBND tỉnh Lâm Đồng", "Office of the Lâm Đồng People's Committee"),
)
# code, name_vi, name_en, unit, group, frequency, aggregation, cumulative, higher, agency,
# 2026 target (None: none), values from January (or Q1) on.
M, Q = Frequency.monthly, Frequency.quarterly
INDICATORS: tuple[tuple[Any, ...], ...] = (
    (
        "GRDP_GROWTH",
        "Tốc độ tăng trưởng GRDP",
        "GRDP growth",
        "%",
        "Kinh tế",
        Q,
        "none",
        False,
        True,
        "STC-LD",
        8.0,
        [7.1, 7.6, 8.1],
    ),
    (
        "GRDP_PER_CAPITA",
        "GRDP bình quân đầu người",
        "GRDP per capita",
        "triệu đồng",
        "Kinh tế",
        Q,
        "none",
        False,
        True,
        "STC-LD",
        105.0,
        [98.4, 100.3, 102.1],
    ),
    (
        "BUDGET_REVENUE",
        "Thu ngân sách nhà nước trên địa bàn",
        "State budget revenue",
        "tỷ đồng",
        "Tài chính",
        M,
        "sum",
        True,
        True,
        "STC-LD",
        32000.0,
        [2950, 2410, 2580, 2720, 2640, 2810, 2590, 2700, 2660, 2880],
    ),
    (
        "PUBLIC_INVEST_DISB",
        "Tỉ lệ giải ngân vốn đầu tư công",
        "Public-investment disbursement",
        "%",
        "Tài chính",
        M,
        "none",
        False,
        True,
        "STC-LD",
        95.0,
        [3.2, 7.5, 13.8, 19.6, 26.1, 34.0, 40.2, 47.5, 55.1, 61.8],
    ),
    (
        "EXPORTS",
        "Kim ngạch xuất khẩu hàng hóa",
        "Exports of goods",
        "triệu USD",
        "Thương mại",
        M,
        "sum",
        True,
        True,
        "SCT-LD",
        2500.0,
        [188, 162, 205, 211, 214, 208, 219, 224, 216, 229],
    ),
    (
        "RETAIL_SALES",
        "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng",
        "Retail sales of goods and consumer services",
        "tỷ đồng",
        "Thương mại",
        M,
        "sum",
        True,
        True,
        "SCT-LD",
        185000.0,
        [16200, 16900, 14800, 15100, 15300, 15050, 15600, 15900, 15400, 15800],
    ),
    (
        "CPI",
        "Chỉ số giá tiêu dùng bình quân tăng so với cùng kỳ",
        "CPI, year-on-year",
        "%",
        "Giá cả",
        M,
        "average",
        False,
        False,
        "SCT-LD",
        4.0,
        [3.4, 3.6, 3.3, 3.5, 3.7, 3.9, 4.1, 4.3, 4.2, 4.6],
    ),
    (
        "NEW_JOBS",
        "Số lao động được tạo việc làm mới",
        "New jobs created",
        "người",
        "Lao động",
        M,
        "sum",
        True,
        True,
        "SNV-LD",
        60000.0,
        [3900, 4100, 5200, 5100, 4900, 5000, 4800, 4700, 4950, 5050],
    ),
    (
        "TOURIST_ARRIVALS",
        "Lượt khách du lịch",
        "Tourist arrivals",
        "nghìn lượt",
        "Du lịch",
        M,
        "sum",
        True,
        True,
        "SVHTTDL-LD",
        22000.0,
        [2150, 2480, 1620, 1750, 1980, 2230, 2310, 1890, 1560, 1640],
    ),
    (
        "DOSSIERS_TOTAL",
        "Số hồ sơ thủ tục hành chính tiếp nhận",
        "Administrative dossiers received",
        "hồ sơ",
        "Chuyển đổi số",
        M,
        "sum",
        True,
        True,
        "VP-UBND-LD",
        None,
        [48200, 39100, 52300, 50800, 51600, 49900, 53200, 52800, 50100, 54400],
    ),
    (
        "ONLINE_DOSSIERS",
        "Tỉ lệ hồ sơ thủ tục hành chính nộp trực tuyến",
        "Share of dossiers filed online",
        "%",
        "Chuyển đổi số",
        M,
        "weighted",
        False,
        True,
        "VP-UBND-LD",
        80.0,
        [63.5, 65.2, 67.0, 68.4, 70.1, 71.3, 72.8, 74.0, 75.2, 76.1],
    ),
)


def _agencies(session: Session, province: Unit) -> None:
    """Add the agencies responsible for the demo indicators (audited, like any admin write)."""
    actor = system_principal("demo-seed")
    for code, name, name_en in AGENCIES:
        if session.scalar(select(Agency.id).where(Agency.code == code)) is None:
            people.create_agency(
                session,
                actor,
                AgencyCreate(code=code, name=name, name_en=name_en, unit_code=province.code),
            )


def seed_demo(session: Session) -> None:
    """Load the demo catalogue with targets and values for the province (once)."""
    province = session.scalar(select(Unit).where(Unit.code == PROVINCE))
    if province is None or session.scalar(select(Indicator.id).limit(1)) is not None:
        return
    _agencies(session, province)
    for order, row in enumerate(INDICATORS):
        code, name_vi, name_en, uom, group, freq, agg, cumulative, higher, agency = row[:10]
        target, series = row[10], row[11]
        indicator = Indicator(
            code=code,
            name_vi=name_vi,
            name_en=name_en,
            unit_of_measure=uom,
            group=group,
            frequency=freq,
            aggregation=agg,
            cumulative=cumulative,
            higher_is_better=higher,
            agency_code=agency,
            deadline_day=10 if freq == M else 20,
            sort_order=order,
            weight_code="DOSSIERS_TOTAL" if agg == "weighted" else None,
            description=f"Chỉ tiêu mẫu. {DEMO_SOURCE}.",
        )
        session.add(indicator)
        session.flush()
        if target is not None:
            session.add(
                Target(
                    indicator_id=indicator.id,
                    unit_id=province.id,
                    year=YEAR,
                    value=target,
                    note=DEMO_SOURCE,
                )
            )
        for number, value in enumerate(series, start=1):
            session.add(
                Value(
                    indicator_id=indicator.id,
                    unit_id=province.id,
                    period=str(Period(YEAR, freq, number)),
                    value=float(value),
                    revision=1,
                    is_current=True,
                    source=DEMO_SOURCE,
                    note="số liệu minh họa",
                    entered_by="system:0:demo",
                )
            )
    session.flush()
