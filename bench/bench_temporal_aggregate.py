"""Benchmark: NGSI-LD temporal aggregation (hourly avg over one day, one entity) vs raw SQL.

Starts a real `cityops serve` on a temporary SQLite database, creates E entities through the
API, then bulk-inserts N history instances straight into ctx_attr_instances (raw executemany,
one reading per entity per minute) and asks
GET /ngsi-ld/v1/temporal/entities/{id}?attrs=pm25&options=aggregatedValues&aggrMethods=avg
&aggrPeriodDuration=PT1H&timerel=between&timeAt=<day>&endTimeAt=<day+1> for random entities
and days, measuring
p50/p95 latency. In the same run it measures the raw engine (sqlite3 on the same database
file) doing the same hourly GROUP BY over the same rows. Prints one JSON line.

Target (issue "Context-data hub"): with 10 million instances stored (--instances 10000000)
p95 <= 100 ms. Exits non-zero when under target only with --enforce.

With --postgresql the same runs on a throwaway PostgreSQL cluster (tests/pgcluster.py), with
the rollup job off so that every answer reads raw history: first on the monthly-partitioned
history table (migration 0013), then, on the same rows, on the plain table that downgrading
to 0012 gives back; one JSON line per table layout. A last line times retiring one month of
raw history both ways: DELETE (and the VACUUM it calls for) on the plain table, DROP of a
partition (with the count of its rows) once migrated back.
--step-minutes spreads the readings over more months (e.g. 10: 3 million instances over 100
entities cover seven months).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import Server, pg_cluster, pg_dsn  # noqa: E402

TARGET_P95_MS = 100.0
VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
START = datetime(2026, 1, 1, tzinfo=UTC)


def eid(i: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:T{i:04d}"


def create_entities(server: Server, entities: int) -> None:
    """Create the benchmark entities through the API."""
    headers = {"X-API-Key": server.key, "Content-Type": "application/json"}
    body = [
        {
            "id": eid(i),
            "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": 1.0, "observedAt": "2025-12-31T00:00:00Z"},
        }
        for i in range(entities)
    ]
    r = httpx.post(
        f"{server.base}/ngsi-ld/v1/entityOperations/create",
        headers=headers,
        content=orjson.dumps(body),
        timeout=120,
    )
    r.raise_for_status()


def readings(i: int, per_entity: int, step: int) -> Iterator[tuple[datetime, float, str]]:
    """Yield entity i's readings: time, value and the stored instance (JSON)."""
    for m in range(per_entity):
        t = START + timedelta(minutes=m * step)
        value = (m * 7 + i) % 300 / 3.0
        stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        yield t, value, f'{{"type":"Property","value":{value!r},"observedAt":"{stamp}"}}'


def seed(server: Server, entities: int, instances: int) -> tuple[dict[int, int], int, int]:
    """Create the entities through the API, then raw-insert the history; return the entity
    pks, the attribute id and the number of days covered."""
    create_entities(server, entities)
    db = sqlite3.connect(server.url.removeprefix("sqlite:///"), timeout=60)
    pks = {
        int(eid_.rsplit("T", 1)[1]): pk
        for pk, eid_ in db.execute("SELECT pk, entity_id FROM ctx_entities")
    }
    (attr,) = db.execute(
        "SELECT id FROM ctx_attr_names WHERE iri = ?", (VOCAB + "pm25",)
    ).fetchone()
    per_entity = instances // entities
    modified = "2026-11-24 00:00:00.000000"

    def rows(i: int):  # noqa: ANN202
        for t, value, inst in readings(i, per_entity, 1):
            yield (pks[i], attr, t.strftime("%Y-%m-%d %H:%M:%S.000000"), modified, value, inst)

    for i in range(entities):
        db.executemany(
            "INSERT INTO ctx_attr_instances (entity_pk, attr_id, observed_at, modified_at, "
            "dataset_id, value_num, instance) VALUES (?, ?, ?, ?, '', ?, ?)",
            rows(i),
        )
        db.commit()
    db.close()
    return pks, attr, max(1, per_entity // 1440)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * p) - 1)] * 1000


def picks(entities: int, days: int, n: int) -> list[tuple[int, datetime]]:
    rng = random.Random(11)
    return [
        (rng.randrange(entities), START + timedelta(days=rng.randrange(days))) for _ in range(n)
    ]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def measure_http(server: Server, jobs: list[tuple[int, datetime]]) -> tuple[float, float, int]:
    headers = {"X-API-Key": server.key, "Accept": "application/json"}
    times = []
    buckets = 0
    with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
        for k, (i, day) in enumerate(jobs):
            url = (
                f"/ngsi-ld/v1/temporal/entities/{eid(i)}?attrs=pm25&options=aggregatedValues&aggrMethods=avg"
                f"&aggrPeriodDuration=PT1H&timerel=between&timeAt={iso(day)}"
                f"&endTimeAt={iso(day + timedelta(days=1))}"
            )
            t0 = time.perf_counter()
            r = client.get(url)
            elapsed = time.perf_counter() - t0
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code} {r.text[:300]}")
            if k >= 5:  # warm-up
                times.append(elapsed)
            body = r.json()
            avg = body.get("pm25", {}).get("avg", []) if isinstance(body, dict) else []
            buckets = max(buckets, len(avg))
    return pct(times, 0.5), pct(times, 0.95), buckets


def measure_raw(
    db_path: str, pks: dict[int, int], attr: int, jobs: list[tuple[int, datetime]]
) -> tuple[float, float]:
    db = sqlite3.connect(db_path)
    sql = (
        "SELECT substr(observed_at, 1, 13) AS hour, avg(value_num) FROM ctx_attr_instances "
        "WHERE entity_pk = ? AND attr_id = ? AND dataset_id = '' "
        "AND observed_at >= ? AND observed_at < ? GROUP BY hour ORDER BY hour"
    )
    fmt = "%Y-%m-%d %H:%M:%S.000000"
    times = []
    for k, (i, day) in enumerate(jobs):
        t0 = time.perf_counter()
        rows = db.execute(
            sql, (pks[i], attr, day.strftime(fmt), (day + timedelta(days=1)).strftime(fmt))
        ).fetchall()
        if k >= 5:
            times.append(time.perf_counter() - t0)
        assert rows
    db.close()
    return pct(times, 0.5), pct(times, 0.95)


def seed_pg(
    server: Server, entities: int, instances: int, step: int
) -> tuple[dict[int, int], int, int]:
    """Like seed() on PostgreSQL: monthly partitions made for the months covered (as the job
    would have made them month by month), then the history COPYed in."""
    import psycopg

    from cityops.context.partitions import ensure_partitions
    from cityops.core.db import Database

    create_entities(server, entities)
    per_entity = instances // entities
    days = max(1, per_entity * step // 1440)
    db = Database(server.url)
    with db.session() as session:
        ensure_partitions(session, days // 28 + 1, START, None)
    db.dispose()
    modified = datetime(2026, 11, 24, tzinfo=UTC)
    with psycopg.connect(pg_dsn(server.url), autocommit=True) as conn:
        pks = {
            int(eid_.rsplit("T", 1)[1]): pk
            for pk, eid_ in conn.execute("SELECT pk, entity_id FROM ctx_entities")
        }
        iri = VOCAB + "pm25"
        (attr,) = conn.execute("SELECT id FROM ctx_attr_names WHERE iri = %s", (iri,)).fetchone()
        columns = "entity_pk, attr_id, observed_at, modified_at, dataset_id, value_num, instance"
        with conn.cursor().copy(f"COPY ctx_attr_instances ({columns}) FROM STDIN") as copy:
            for i in range(entities):
                for t, value, inst in readings(i, per_entity, step):
                    copy.write_row((pks[i], attr, t, modified, "", value, inst))
        conn.execute("ANALYZE ctx_attr_instances")
    return pks, attr, days


def measure_raw_pg(
    url: str, pks: dict[int, int], attr: int, jobs: list[tuple[int, datetime]]
) -> tuple[float, float]:
    """Time the same hourly GROUP BY straight on PostgreSQL."""
    import psycopg

    sql = (
        "SELECT date_trunc('hour', observed_at) AS hour, avg(value_num) "
        "FROM ctx_attr_instances WHERE entity_pk = %s AND attr_id = %s AND dataset_id = '' "
        "AND observed_at >= %s AND observed_at < %s GROUP BY hour ORDER BY hour"
    )
    times = []
    with psycopg.connect(pg_dsn(url)) as conn:
        for k, (i, day) in enumerate(jobs):
            t0 = time.perf_counter()
            rows = conn.execute(sql, (pks[i], attr, day, day + timedelta(days=1))).fetchall()
            if k >= 5:
                times.append(time.perf_counter() - t0)
            assert rows
    return pct(times, 0.5), pct(times, 0.95)


def layout_of(url: str) -> dict[str, object]:
    """Describe how history is stored: partitioned or not, partitions and rows."""
    import psycopg

    with psycopg.connect(pg_dsn(url)) as conn:
        parts = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ctx_attr_instances'::regclass"
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM ctx_attr_instances").fetchone()[0]
    return {"layout": "partitioned" if parts else "plain", "partitions": parts, "rows": rows}


def run_postgresql(args: argparse.Namespace) -> list[dict[str, object]]:
    """Run on a throwaway PostgreSQL cluster: partitioned history, then the plain table."""
    from alembic import command

    from cityops.core.db import Database
    from cityops.core.schema import alembic_config

    cluster = pg_cluster()
    server = Server(cluster.create_database("cityops_bench"))
    server.env["CITYOPS_TEMPORAL__ROLLUPS_ENABLED"] = "false"  # every answer reads raw rows
    results = []
    try:
        server.start()
        t0 = time.perf_counter()
        pks, attr, days = seed_pg(server, args.entities, args.instances, args.step_minutes)
        load_s = time.perf_counter() - t0
        jobs = picks(args.entities, days, args.queries + 5)
        for layout in ("partitioned", "plain"):
            if layout == "plain":
                db = Database(server.url)
                command.downgrade(alembic_config(db), "0012_ctx_attr_values")
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE ctx_attr_instances")
                db.dispose()
            p50, p95, buckets = measure_http(server, jobs)
            raw = measure_raw_pg(server.url, pks, attr, jobs)
            results.append(
                report(args, p50, p95, raw, buckets, server.rss_mb(), days, load_s)
                | {"database": "postgresql"}
                | layout_of(server.url)
            )
        results.append(retention_costs(server.url))
    finally:
        server.stop()
        cluster.stop()
    return results


def retention_costs(url: str) -> dict[str, object]:
    """Time retiring one month of raw history: a DELETE on the plain table (February), then,
    migrated back to monthly partitions, the drop of a partition (January)."""
    from alembic import command
    from sqlalchemy import text

    from cityops.context.partitions import add_months, drop_partitions
    from cityops.core.db import Database, utcnow
    from cityops.core.schema import alembic_config

    db = Database(url)
    sql = (
        "DELETE FROM ctx_attr_instances WHERE observed_at >= :start AND observed_at < :end "
        "AND modified_at <= now()"
    )
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        span = {"start": add_months(START, 1), "end": add_months(START, 2)}
        deleted = conn.execute(text(sql), span).rowcount
    delete_s = time.perf_counter() - t0
    t0 = time.perf_counter()  # what autovacuum must do after a DELETE, and a DROP spares
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ctx_attr_instances")
    vacuum_s = time.perf_counter() - t0
    command.upgrade(alembic_config(db), "0013_history_partitions")
    t0 = time.perf_counter()
    with db.session() as session:
        dropped = drop_partitions(session, add_months(START, 1), utcnow())
    drop_s = time.perf_counter() - t0
    db.dispose()
    return {
        "benchmark": "history_retention_one_month",
        "database": "postgresql",
        "plain_delete_rows": deleted,
        "plain_delete_s": round(delete_s, 3),
        "plain_vacuum_s": round(vacuum_s, 3),
        "partition_drop_rows": dropped,
        "partition_drop_s": round(drop_s, 3),
    }


def report(
    args: argparse.Namespace,
    p50: float,
    p95: float,
    raw: tuple[float, float],
    buckets: int,
    rss: float,
    days: int,
    load_s: float,
) -> dict[str, object]:
    """Return the benchmark's result record."""
    return {
        "benchmark": "ngsi_ld_temporal_hourly_avg_http",
        "p50_ms": round(p50, 2),
        "p95_ms": round(p95, 2),
        "raw_engine_p50_ms": round(raw[0], 2),
        "raw_engine_p95_ms": round(raw[1], 2),
        "ratio_p95": round(p95 / raw[1], 2) if raw[1] else None,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": p95 <= TARGET_P95_MS,
        "buckets_per_answer": buckets,
        "server_rss_mb": round(rss, 1),
        "instances": args.instances,
        "entities": args.entities,
        "days": days,
        "load_s": round(load_s, 1),
        "queries": args.queries,
    }


def main() -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--postgresql", action="store_true", help="run on PostgreSQL")
    parser.add_argument("--step-minutes", type=int, default=1, help="minutes between readings")
    parser.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    args = parser.parse_args()
    results = run_postgresql(args) if args.postgresql else [run_sqlite(args)]
    for result in results:
        print(json.dumps(result))
    ok = all(r.get("meets_target", True) for r in results)
    return 0 if ok or not args.enforce else 1


def run_sqlite(args: argparse.Namespace) -> dict[str, object]:
    """Run on a temporary SQLite database (the embedded default)."""
    server = Server().start()
    try:
        t0 = time.perf_counter()
        pks, attr, days = seed(server, args.entities, args.instances)
        load_s = time.perf_counter() - t0
        jobs = picks(args.entities, days, args.queries + 5)
        p50, p95, buckets = measure_http(server, jobs)
        raw = measure_raw(server.url.removeprefix("sqlite:///"), pks, attr, jobs)
        rss = server.rss_mb()
    finally:
        server.stop()
    return report(args, p50, p95, raw, buckets, rss, days, load_s)


if __name__ == "__main__":
    sys.exit(main())
