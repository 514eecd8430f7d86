"""Benchmark the public-service counters for a year of dossiers; print JSON.

Loads a synthetic year of dossiers (the demo generator: Bình Thuận's published rates, 124
communes of Lâm Đồng) into a throwaway SQLite database, then times the one-stop counters for
the whole year (province and one commune) and for one month, as the API computes them (from
the counts kept per month), and in the same run a baseline that computes the same figures with
one aggregate query over the dossiers. The two must agree.

    python bench/bench_public_services.py [--dossiers 200000] [--runs 30] [--enforce]

Target: the year's counters for the province in p95 <= 200 ms. Exits 1 under target only with
--enforce (the figure depends on the machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from cityops.core.config import PublicServicesSettings
from cityops.core.db import Database
from cityops.core.policy import system_principal
from cityops.core.schema import import_all_models, migrate
from cityops.core.units.loaders import load_demo_units
from cityops.core.units.models import Unit
from cityops.modules.public_services.clock import local_tz
from cityops.modules.public_services.counters import counters
from cityops.modules.public_services.demo_data import bulk_load, generate
from cityops.modules.public_services.seed import _places, _procedures

TARGET_P95_MS = 200.0
SYSTEM = system_principal("bench")
SETTINGS = PublicServicesSettings()
START = datetime(2025, 1, 1, tzinfo=local_tz(SETTINGS)).astimezone(UTC)
NOW = datetime(2025, 12, 20, 3, 0, tzinfo=UTC)
FIELDS = ("received", "carried_over", "processed", "processed_late", "in_progress")
FIELDS += ("in_progress_late",)

# The naive way: every figure straight from the dossiers (SQLite date arithmetic, UTC+7).
BASELINE = """
SELECT
  SUM(d.received_at >= :start AND d.received_at < :end),
  SUM(d.received_at < :start AND (d.finished_at IS NULL OR d.finished_at >= :start)),
  SUM(d.finished_at >= :start AND d.finished_at < :end),
  SUM(d.finished_at >= :start AND d.finished_at < :end AND d.finished_at > d.due_at),
  SUM(d.received_at < :asof AND (d.finished_at IS NULL OR d.finished_at >= :asof)),
  SUM(d.received_at < :asof AND (d.finished_at IS NULL OR d.finished_at >= :asof)
      AND d.due_at < :asof)
FROM ps_dossiers d JOIN units u ON u.id = d.unit_id
WHERE u.path LIKE :path
"""


def _ms(fn: Any, runs: int) -> tuple[list[float], Any]:
    """Time `fn` `runs` times; return the durations in ms and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)


def load(db: Database, count: int) -> tuple[float, int]:
    """Load the unit tree and `count` dossiers; return (seconds, summary rows)."""
    started = time.perf_counter()
    with db.session() as session:
        load_demo_units(session, SYSTEM)
        session.flush()
        province = session.scalar(select(Unit).where(Unit.code == "68"))
        places = _places(session, province)
        rows = generate(count, START, NOW, places, _procedures(session), local_tz(SETTINGS))
        bulk_load(session, rows, local_tz(SETTINGS))
    elapsed = time.perf_counter() - started
    with db.engine.connect() as conn:
        summary = conn.execute(text("SELECT count(*) FROM ps_month_counts")).scalar_one()
    return elapsed, summary


def time_counters(db: Database, period: str, unit: str, runs: int) -> tuple[list[float], Any]:
    """Time the counters as the API computes them."""
    with db.session() as session:
        return _ms(lambda: counters(session, SYSTEM, SETTINGS, NOW, period, unit), runs)


def time_baseline(db: Database, runs: int) -> tuple[list[float], tuple]:
    """Time the one-query baseline for the year and the province."""
    params = {
        "start": START.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "end": datetime(2026, 1, 1, tzinfo=local_tz(SETTINGS)).astimezone(UTC),
        "asof": NOW.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "path": "/1/%",
    }
    params["end"] = params["end"].strftime("%Y-%m-%d %H:%M:%S.%f")
    with db.engine.connect() as conn:
        return _ms(lambda: tuple(conn.execute(text(BASELINE), params).one()), runs)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the database, time both ways, return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        migrate(db)
        import_all_models()
        load_s, summary_rows = load(db, args.dossiers)
        year, found = time_counters(db, "2025", "68", args.runs)
        commune, _ = time_counters(db, "2025", "22918", args.runs)
        month, _ = time_counters(db, "2025-11", "68", args.runs)
        base, expected = time_baseline(db, max(3, args.runs // 10))
        db.dispose()
    p95 = _p95(year)
    return {
        "benchmark": "public_services_counters",
        "dossiers": args.dossiers,
        "load_s": round(load_s, 1),
        "load_dossiers_per_s": round(args.dossiers / load_s),
        "summary_rows": summary_rows,
        "year_province_p50_ms": round(statistics.median(year), 2),
        "year_province_p95_ms": p95,
        "year_commune_p95_ms": _p95(commune),
        "month_province_p95_ms": _p95(month),
        "baseline_year_province_p50_ms": round(statistics.median(base), 2),
        "speedup": round(statistics.median(base) / statistics.median(year), 1),
        "agrees_with_baseline": tuple(getattr(found, f) for f in FIELDS) == expected,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": p95 <= TARGET_P95_MS,
        "runs": args.runs,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON object; with --enforce exit 1 under target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dossiers", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    args = ap.parse_args(argv)
    result = run(args)
    print(json.dumps(result))
    ok = result["meets_target"] and result["agrees_with_baseline"]
    return 1 if args.enforce and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
