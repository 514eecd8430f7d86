"""The socio-economic catalogue: which indicator groups this sector shows, the indicators it
adds to the engine's demo catalogue, and published reference figures of comparable provinces.

The engine (modules/indicators) stores every indicator; this module only names its groups and
adds what the engine's demo catalogue lacks (IIP, poverty rate, new enterprises, trained labour).
"""

from __future__ import annotations

from dataclasses import dataclass

# The groups of the provincial socio-economic report, in display order (vi, en).
GROUPS: tuple[tuple[str, str], ...] = (
    ("Kinh tế", "Economy"),
    ("Công nghiệp", "Industry"),
    ("Tài chính", "Public finance"),
    ("Thương mại", "Trade"),
    ("Giá cả", "Prices"),
    ("Doanh nghiệp", "Enterprises"),
    ("Lao động", "Labour"),
    ("Du lịch", "Tourism"),
    ("Xã hội", "Social"),
)
GROUP_EN = dict(GROUPS)


@dataclass(frozen=True)
class Spec:
    """An indicator this module adds, with its 2026 demo target and values."""

    code: str
    name_vi: str
    name_en: str
    unit_of_measure: str
    group: str
    frequency: str
    aggregation: str
    cumulative: bool
    higher_is_better: bool
    agency_code: str
    target: float | None
    values: tuple[float, ...]  # from the first period of 2026 on (demo)


SPECS: tuple[Spec, ...] = (
    Spec(
        "IIP",
        "Chỉ số sản xuất công nghiệp (IIP) so với cùng kỳ",
        "Index of industrial production, year-on-year",
        "%",
        "Công nghiệp",
        "monthly",
        "none",
        False,
        True,
        "SCT-LD",
        109.0,
        (107.2, 104.8, 108.9, 109.4, 110.1, 108.6, 109.9, 110.4, 111.0, 110.2),
    ),
    Spec(
        "NEW_ENTERPRISES",
        "Số doanh nghiệp thành lập mới",
        "New enterprises registered",
        "doanh nghiệp",
        "Doanh nghiệp",
        "monthly",
        "sum",
        True,
        True,
        "STC-LD",
        2400.0,
        (150, 120, 210, 205, 198, 190, 202, 188, 176, 195),
    ),
    Spec(
        "TRAINED_LABOUR_RATE",
        "Tỉ lệ lao động qua đào tạo",
        "Share of the workforce with training",
        "%",
        "Lao động",
        "quarterly",
        "none",
        False,
        True,
        "SNV-LD",
        72.0,
        (69.8, 70.4, 71.1),
    ),
    Spec(
        "POVERTY_RATE",
        "Tỉ lệ hộ nghèo theo chuẩn nghèo đa chiều",
        "Share of poor households (multidimensional poverty line)",
        "%",
        "Xã hội",
        "yearly",
        "none",
        False,
        False,
        "SNV-LD",
        1.5,
        (),
    ),
)


@dataclass(frozen=True)
class Published:
    """A figure a province published, named in CityOps issue 7 (for comparison, not demo)."""

    province: str
    indicator: str
    year: int
    value: float
    unit_of_measure: str
    source: str


ISSUE_7 = (
    "Số liệu công bố, trích dẫn trong issue 7 của CityOps / published figures cited in issue 7"
)
PUBLISHED: tuple[Published, ...] = (
    Published("Bình Định", "GRDP_GROWTH", 2023, 7.61, "%", ISSUE_7),
    Published("Bình Định", "GRDP_GROWTH", 2024, 7.76, "%", ISSUE_7),
    Published("Bình Định", "BUDGET_REVENUE", 2023, 13_828.0, "tỷ đồng", ISSUE_7),
    Published("Bình Định", "BUDGET_REVENUE", 2024, 15_600.0, "tỷ đồng", ISSUE_7),
    Published("Bình Thuận", "DOSSIERS_TOTAL", 2024, 94_665.0, "hồ sơ", ISSUE_7),
    Published("Bình Thuận", "DOSSIERS_ON_TIME_RATE", 2024, 99.85, "%", ISSUE_7),
    Published("Bình Thuận", "DOSSIERS_ONLINE", 2024, 50_693.0, "hồ sơ", ISSUE_7),
)
