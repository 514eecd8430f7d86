"""Benchmark the weekly notifiable-disease upload with EARS detection; print JSON.

Loads the demo province (Lâm Đồng, 124 communes) into a throwaway SQLite database, back-fills
`--weeks` weeks of counts for 8 diseases in every commune in one upload, then times what a
health department does each week: one upload of 124 x 8 = 992 rows. Both go through the
service the API calls (row checks, upserts, audit, EARS C1/C2/C3 on every row).

    python bench/bench_health_cases.py [--weeks 26] [--enforce]

Target: the weekly upload in <= 5 s. Exits 1 under target only with --enforce.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta

from sqlalchemy import func, select

from cityops.core.db import Database
from cityops.core.policy import system_principal
from cityops.core.schema import import_all_models, migrate
from cityops.core.units.loaders import load_demo_units
from cityops.core.units.models import Unit
from cityops.modules.health.cases import import_rows
from cityops.modules.health.choices import DISEASES
from cityops.modules.health.models import CaseCount, Signal
from cityops.modules.health.weeks import week_label

TARGET_S = 5.0
SYSTEM = system_principal("bench")


def _rows(communes: list[str], weeks: list[date], rng: random.Random) -> list[tuple[int, dict]]:
    rows = []
    for week in weeks:
        for code in communes:
            for disease in DISEASES:
                cases = sum(1 for _ in range(6) if rng.random() < 0.3)
                row = {"disease": disease, "unit_code": code, "week": week_label(week)}
                rows.append((len(rows) + 2, row | {"cases": str(cases), "deaths": "0"}))
    return rows


def main() -> int:
    """Run the benchmark and print its figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--enforce", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    today = date.today()
    last = today - timedelta(days=today.weekday() + 7)
    weeks = [last - timedelta(weeks=n) for n in range(args.weeks, 0, -1)]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        migrate(db)
        import_all_models()
        with db.session() as s:
            load_demo_units(s, SYSTEM)
        with db.session() as s:
            communes = list(s.scalars(select(Unit.code).where(Unit.level == "commune")))
        backfill = _rows(communes, weeks, rng)
        started = time.perf_counter()
        with db.session() as s:
            result = import_rows(s, SYSTEM, backfill, "bench", today)
        backfill_s = time.perf_counter() - started
        weekly = _rows(communes, [last], rng)
        started = time.perf_counter()
        with db.session() as s:
            weekly_result = import_rows(s, SYSTEM, weekly, "bench", today)
        weekly_s = time.perf_counter() - started
        with db.session() as s:
            stored = s.scalar(select(func.count(CaseCount.id)))
            signals = s.scalar(select(func.count(Signal.id)))
        db.dispose()
    figures = {
        "benchmark": "health_cases",
        "communes": len(communes),
        "diseases": len(DISEASES),
        "backfill_rows": len(backfill),
        "backfill_s": round(backfill_s, 2),
        "backfill_rows_per_s": round(len(backfill) / backfill_s),
        "weekly_rows": len(weekly),
        "weekly_s": round(weekly_s, 3),
        "stored": stored,
        "signals": signals,
        "errors": len(result.errors) + len(weekly_result.errors),
        "target_weekly_s": TARGET_S,
        "ok": weekly_s <= TARGET_S,
    }
    print(json.dumps(figures))
    return 1 if args.enforce and not figures["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
