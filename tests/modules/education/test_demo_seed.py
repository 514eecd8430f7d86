"""The education demo: schools on the map and three school years of labelled figures."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from cityops.context.models import ContextEntity
from cityops.core import demo
from cityops.core.policy import system_principal
from cityops.modules.education import MANIFEST
from cityops.modules.education.models import SchoolYear
from cityops.modules.education.schools import type_iri
from cityops.modules.education.seed import seed_demo
from cityops.modules.education.summary import summary


def test_demo_seed_loads_schools_and_plausible_figures_quickly(database):
    started = time.perf_counter()
    with database.session() as s:  # one transaction, as `cityops demo` does it
        assert demo.seed(s, system_principal("test"), {"education": MANIFEST})
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"the core and education demo took {elapsed:.1f} s"
    with database.session() as s:
        schools = s.scalar(select(func.count()).where(ContextEntity.type == type_iri()))
        assert schools == 30
        assert all("minh họa" in (r.source or "") for r in s.scalars(select(SchoolYear)))
        board = summary(s, system_principal("test"), "68", 2025, "level")
        assert {row.key for row in board.items} == {"mam_non", "tieu_hoc", "thcs", "thpt"}
        ratio = board.total.pupils_per_teacher or 0
        assert 10 < ratio < 25
        thpt = next(row for row in board.items if row.key == "thpt")
        assert 95 < (thpt.pass_rate or 0) < 100
    with database.session() as s:
        before = s.scalar(select(func.count(SchoolYear.id)))
        seed_demo(s)
        assert s.scalar(select(func.count(SchoolYear.id))) == before
