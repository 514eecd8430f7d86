"""Demo data of the education module for Lâm Đồng (68): schools and three school years.

School names are generic demo names, coordinates are approximate, and every figure is
illustrative (số liệu minh họa); the data say so. 2024-2025 and 2025-2026 carry exam results;
the current year (2026-2027) has none yet.
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.policy import system_principal
from cityops.core.units.models import Unit
from cityops.modules.education import figures, schools
from cityops.modules.education.choices import DEMO_SOURCE, Level
from cityops.modules.education.models import SchoolYear
from cityops.modules.education.schemas import FiguresPut, SchoolCreate

# commune code, short name, approximate centre (lat, lon), has an upper-secondary school
COMMUNES = (
    ("22918", "Mũi Né", 10.945, 108.285, True),
    ("22945", "Phan Thiết", 10.930, 108.100, True),
    ("23235", "La Gi", 10.665, 107.770, True),
    ("24778", "Lâm Viên", 11.940, 108.450, True),
    ("24781", "Xuân Hương", 11.946, 108.442, False),
    ("24611", "Bắc Gia Nghĩa", 12.010, 107.695, True),
    ("24829", "B'Lao", 11.548, 107.807, True),
    ("24958", "Đức Trọng", 11.736, 108.373, False),
)
PREFIX = {
    Level.preschool: ("MN", "Trường Mầm non"),
    Level.primary: ("TH", "Trường Tiểu học"),
    Level.lower_secondary: ("THCS", "Trường THCS"),
    Level.upper_secondary: ("THPT", "Trường THPT"),
}
# level -> (pupils range, pupils per class, teachers per class, share sitting the final exam)
SHAPE = {
    Level.preschool: ((220, 420), 28, 2.0, None),
    Level.primary: ((600, 1100), 33, 1.4, 0.2),
    Level.lower_secondary: ((650, 1200), 40, 1.9, 0.25),
    Level.upper_secondary: ((900, 1500), 42, 2.25, 0.32),
}
YEARS = (2024, 2025, 2026)


def _figures(rng: random.Random, level: Level, year: int, current: int) -> FiguresPut:
    (low, high), per_class, per_teacher, exam_share = SHAPE[level]
    pupils = rng.randint(low, high)
    classes = max(1, round(pupils / per_class))
    exams = exam_share is not None and year < current
    candidates = round(pupils * exam_share) if exams and exam_share else None
    passed = round(candidates * rng.uniform(0.955, 0.998)) if candidates else None
    return FiguresPut(
        pupils=pupils,
        teachers=round(classes * per_teacher * rng.uniform(0.92, 1.05)),
        classes=classes,
        new_entrants=round(pupils * rng.uniform(0.2, 0.34)),
        attendance_rate=round(rng.uniform(94.5, 99.4), 1),
        exam_candidates=candidates,
        exam_passed=passed,
    )


def seed_demo(session: Session) -> None:
    """Load the education demo data for province 68 (once; needs the core demo's unit tree)."""
    if session.scalar(select(SchoolYear.id).limit(1)) is not None:
        return
    codes = [c[0] for c in COMMUNES]
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    if len(units) != len(codes):
        return
    actor = system_principal("demo-seed")
    rng = random.Random(2026)
    current = figures.current_year()
    for code, short, lat, lon, has_thpt in COMMUNES:
        levels = [lv for lv in Level if lv is not Level.upper_secondary or has_thpt]
        for i, level in enumerate(levels):
            prefix, title = PREFIX[level]
            data = SchoolCreate(
                code=f"{prefix}-{code}",
                name=f"{title} {short}",
                level=level,
                unit_code=code,
                lat=round(lat + 0.004 * (i - 1.5), 4),
                lon=round(lon + 0.003 * (1.5 - i), 4),
                address=f"{units[code].name} (vị trí gần đúng / approximate location)",
            )
            schools.save(session, actor, data, units[code])
            school = schools.get(session, actor, data.code)
            for year in YEARS:
                if year <= current:
                    fig = _figures(rng, level, year, current)
                    figures.put(session, actor, school, year, fig, DEMO_SOURCE)
    session.flush()
