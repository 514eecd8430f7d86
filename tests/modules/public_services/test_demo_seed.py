"""The demo year: plausible one-stop figures for Lâm Đồng, labelled demo, loaded quickly."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from cityops.core import demo
from cityops.core.config import PublicServicesSettings
from cityops.core.policy import system_principal
from cityops.modules.indicators import MANIFEST as INDICATORS
from cityops.modules.public_services import MANIFEST
from cityops.modules.public_services.counters import counters
from cityops.modules.public_services.models import Dossier
from cityops.modules.public_services.seed import seed_demo
from cityops.modules.public_services.views import index766

SYSTEM = system_principal("test")
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def test_the_demo_year_looks_like_binh_thuans_published_figures(database):
    with database.session() as s:
        demo.seed(s, SYSTEM, {"indicators": INDICATORS})
    started = time.perf_counter()
    with database.session() as s:
        inserted = seed_demo(s, NOW)
    elapsed = time.perf_counter() - started
    assert 20_000 < inserted < 22_000  # a quarter of 94,665 over 10.8 months
    assert elapsed < 30, f"seeding {inserted} dossiers took {elapsed:.1f} s"
    with database.session() as s:
        assert set(s.scalars(select(Dossier.source).distinct())) == {"demo"}
        c = counters(s, SYSTEM, PublicServicesSettings(), NOW, "2026", "68")
        assert c.received == inserted and c.carried_over == 0
        assert 99.6 < c.on_time_rate < 99.95  # published: 99.85%
        assert 51 < c.online_rate < 56  # published: 50,693 / 94,665 = 53.6%
        assert c.in_progress > 0 and c.in_progress_near_late > 0
        commune = counters(s, SYSTEM, PublicServicesSettings(), NOW, "2026-10", "22918")
        assert 0 < commune.received < c.received
        index = index766(s, SYSTEM, PublicServicesSettings(), NOW, "2026", "68")
        assert all(g.score is not None for g in index.groups)
        assert 60 < index.total < 95  # national average 77.3 in Oct. 2023 (Báo Quảng Nam)
        assert seed_demo(s, NOW) == 0  # only once


def test_the_module_seeds_through_the_demo_command(database):
    with database.session() as s:
        demo.seed(s, SYSTEM, {"indicators": INDICATORS, "public_services": MANIFEST})
    with database.session() as s:
        assert s.scalar(select(func.count(Dossier.id))) > 1000
