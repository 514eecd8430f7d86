"""Benchmark: NGSI-LD `GET /entities?type=..&q=..` with many entities stored, vs raw SQL.

Starts a real `cityops serve` on a temporary SQLite database, bulk-inserts N entities
straight into the migrated database (in the stored form the API writes) before starting the
server, then sends queries
`?type=ParkingSpot&q=level==K;spotState=="free"` (each matches about N/2000 entities, at most
`limit`) — first one at a time for latency (p50/p95), then from several concurrent keep-alive
connections for queries/s (bench/loadgen.py: requests encoded before the clock starts, so the
client is not what is measured). In the same run it measures the raw engine (sqlite3 on the same
database file) running the equivalent SQL over the same rows (type + json_extract filter +
LIMIT, reading the attrs of the matches). Prints one JSON line.

With --postgresql the same runs on a throwaway PostgreSQL cluster (tests/pgcluster.py): the
entities are loaded with COPY, and the raw engine runs the equivalent SQL on jsonb.

Targets (issue "Context-data hub"): with 100,000 entities (the default) >= 1,000
queries/s and p95 <= 20 ms. Exits non-zero when under target only with --enforce.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402
from server import Server, pg_cluster, pg_dsn  # noqa: E402

from cityops.context.value_index import value_rows  # noqa: E402

TARGET_QPS = 1_000
TARGET_P95_MS = 20.0
TYPE = "ParkingSpot"
VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"  # core context expands unknown terms
LEVELS = 1000


def entity(i: int) -> dict:
    return {
        "id": f"urn:ngsi-ld:{TYPE}:Q{i:06d}",
        "type": TYPE,
        "level": {"type": "Property", "value": i % LEVELS},
        "spotState": {"type": "Property", "value": "free" if i // LEVELS % 2 == 0 else "busy"},
        "name": {"type": "Property", "value": f"spot {i}"},
    }


def _stored(n: int) -> list[tuple[str, str, str]]:
    """(entity id, type IRI, attrs JSON) of n entities in the stored form the API writes
    (expanded IRIs, system timestamps)."""
    now_iso = "2026-11-24T00:00:00.000000Z"
    rows = []
    for i in range(n):
        e = entity(i)
        attrs = {
            VOCAB + k: v | {"createdAt": now_iso, "modifiedAt": now_iso}
            for k, v in e.items()
            if k not in ("id", "type")
        }
        rows.append((e["id"], VOCAB + TYPE, orjson.dumps(attrs).decode()))
    return rows


def load(server: Server, n: int) -> None:
    """Bulk-insert n entities straight into the (migrated, not yet served) database, in the
    stored form the API writes, with the value index the API keeps on every write."""
    if server.url.startswith("postgresql"):
        load_pg(server.url, n)
        return
    now_db = "2026-11-24 00:00:00.000000"
    rows = [(*row, now_db, now_db) for row in _stored(n)]
    db = sqlite3.connect(server.url.removeprefix("sqlite:///"))
    db.executemany(
        "INSERT INTO ctx_entities (tenant, entity_id, type, attrs, datasets, scopes, "
        "created_at, modified_at) VALUES ('', ?, ?, ?, 'null', 'null', ?, ?)",
        rows,
    )
    # the value index the API keeps on every write (cityops.context.value_index)
    index = [
        (r["entity_pk"], r["attr"], r["value_num"], r["value_text"])
        for pk, text in db.execute("SELECT pk, attrs FROM ctx_entities")
        for iri, attr in orjson.loads(text).items()
        for r in value_rows(pk, iri, attr)
    ]
    db.executemany(
        "INSERT INTO ctx_attr_values (entity_pk, attr, value_num, value_text) VALUES (?, ?, ?, ?)",
        index,
    )
    db.commit()
    db.close()


def load_pg(url: str, n: int) -> None:
    """The same on PostgreSQL, with COPY."""
    import psycopg

    with psycopg.connect(pg_dsn(url)) as db:
        columns = "tenant, entity_id, type, attrs, datasets, scopes, created_at, modified_at"
        with db.cursor().copy(f"COPY ctx_entities ({columns}) FROM STDIN") as copy:
            for eid, kind, attrs in _stored(n):
                now = "2026-11-24 00:00:00+00"
                copy.write_row(("", eid, kind, attrs, "null", "null", now, now))
        found = db.execute("SELECT pk, attrs FROM ctx_entities").fetchall()
        columns = "entity_pk, attr, value_num, value_text"
        with db.cursor().copy(f"COPY ctx_attr_values ({columns}) FROM STDIN") as copy:
            for pk, attrs in found:
                for iri, attr in attrs.items():
                    for r in value_rows(pk, iri, attr):
                        copy.write_row((pk, r["attr"], r["value_num"], r["value_text"]))
        db.execute("ANALYZE")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * p) - 1)] * 1000


def measure_http(
    server: Server, queries: int, concurrency: int, limit: int
) -> tuple[float, float, float, float]:
    """(queries/s concurrent, p50 ms, p95 ms sequential, p95 ms under concurrency)."""
    headers = {"X-API-Key": server.key, "Accept": "application/json"}
    rng = random.Random(7)
    levels = [rng.randrange(LEVELS) for _ in range(queries)]

    def url(level: int) -> str:
        q = quote(f'level=={level};spotState=="free"', safe="=;")
        return f"/ngsi-ld/v1/entities?type={TYPE}&q={q}&limit={limit}"

    requests = [loadgen.encode("GET", server.base, url(level), headers) for level in levels]
    loadgen.run(server.base, requests[:50], 1)  # warm-up
    _, sequential, replies = loadgen.run(server.base, requests[: max(50, min(500, queries))], 1)
    _check(replies)
    loadgen.run(server.base, requests[: concurrency * 2], concurrency)
    elapsed, concurrent, replies = loadgen.run(server.base, requests, concurrency)
    _check(replies)
    return queries / elapsed, pct(sequential, 0.5), pct(sequential, 0.95), pct(concurrent, 0.95)


def _check(replies: list[loadgen.Reply]) -> None:
    """Every query must succeed and find entities (a failing server is not a fast one)."""
    for r in replies:
        if r.status != 200 or not orjson.loads(r.body):
            raise RuntimeError(f"{r.status} {r.body[:300]!r}")


def _timed(queries: int, run: Callable[[int], object]) -> tuple[float, float]:
    """Queries/s and p95 (ms) of `run(level)` over the benchmark's random levels."""
    rng = random.Random(7)
    levels = [rng.randrange(LEVELS) for _ in range(queries)]
    times = []
    began = time.perf_counter()
    for level in levels:
        t0 = time.perf_counter()
        run(level)
        times.append(time.perf_counter() - t0)
    return queries / (time.perf_counter() - began), pct(times, 0.95)


def measure_raw(db_path: str, queries: int, limit: int) -> tuple[float, float]:
    """Queries/s and p95 (ms) of SQLite itself running the equivalent query on the same rows."""
    db = sqlite3.connect(db_path)
    level_path = f'$."{VOCAB}level".value'
    state_path = f'$."{VOCAB}spotState".value'
    sql = (
        "SELECT entity_id, type, attrs FROM ctx_entities WHERE tenant = '' AND type = ? "
        "AND json_extract(attrs, ?) = ? AND json_extract(attrs, ?) = 'free' "
        "ORDER BY pk LIMIT ?"
    )

    def run(level: int) -> None:
        rows = db.execute(sql, (f"{VOCAB}{TYPE}", level_path, level, state_path, limit)).fetchall()
        for row in rows:
            orjson.loads(row[2])

    try:
        return _timed(queries, run)
    finally:
        db.close()


def measure_raw_pg(url: str, queries: int, limit: int) -> tuple[float, float]:
    """The same for PostgreSQL itself: type + jsonb filter + LIMIT, attrs decoded."""
    import psycopg

    sql = (
        "SELECT entity_id, type, attrs FROM ctx_entities WHERE tenant = '' AND type = %s "
        "AND attrs -> %s -> 'value' = to_jsonb(%s::int) AND attrs -> %s ->> 'value' = 'free' "
        "ORDER BY pk LIMIT %s"
    )
    with psycopg.connect(pg_dsn(url)) as db:

        def run(level: int) -> None:
            args = (f"{VOCAB}{TYPE}", f"{VOCAB}level", level, f"{VOCAB}spotState", limit)
            db.execute(sql, args).fetchall()  # psycopg decodes the jsonb attrs

        return _timed(queries, run)


def main() -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    # the target is set at 100,000 entities (~20 s to load)
    parser.add_argument("--entities", type=int, default=100_000)
    # long enough to measure a rate (150 queries took ~0.3 s: start-up effects weighed)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument(
        "--raw-queries", type=int, default=200, help="queries of the raw-engine baseline"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    parser.add_argument("--postgresql", action="store_true", help="run on PostgreSQL")
    args = parser.parse_args()
    cluster = pg_cluster() if args.postgresql else None
    server = Server(cluster.create_database("query") if cluster else None)
    try:
        server.cli("migrate")
        t0 = time.perf_counter()
        load(server, args.entities)
        load_s = time.perf_counter() - t0
        server.start()
        qps, p50, p95, p95_conc = measure_http(server, args.queries, args.concurrency, args.limit)
        rss = server.rss_mb()
        if cluster:
            raw_qps, raw_p95 = measure_raw_pg(server.url, args.raw_queries, args.limit)
        else:
            raw_qps, raw_p95 = measure_raw(
                server.url.removeprefix("sqlite:///"), args.raw_queries, args.limit
            )
    finally:
        server.stop()
        if cluster:
            cluster.stop()
    ok = qps >= TARGET_QPS and p95 <= TARGET_P95_MS
    print(
        json.dumps(
            {
                "benchmark": "ngsi_ld_query_type_q_http",
                "database": "postgresql" if cluster else "sqlite",
                **({"postgresql_fsync": False} if cluster else {}),
                "queries_per_s": round(qps),
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
                "p95_ms_concurrent": round(p95_conc, 2),
                "raw_engine_queries_per_s": round(raw_qps),
                "raw_engine_p95_ms": round(raw_p95, 2),
                "ratio": round(qps / raw_qps, 3),
                "target_queries_per_s": TARGET_QPS,
                "target_p95_ms": TARGET_P95_MS,
                "meets_target": ok,
                "server_rss_mb": round(rss, 1),
                "entities": args.entities,
                "load_s": round(load_s, 1),
                "queries": args.queries,
                "concurrency": args.concurrency,
                "limit": args.limit,
            }
        )
    )
    return 0 if ok or not args.enforce else 1


if __name__ == "__main__":
    sys.exit(main())
