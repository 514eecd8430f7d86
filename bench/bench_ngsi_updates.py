"""Benchmark: single-attribute NGSI-LD updates, one HTTP request each, vs raw engine commits.

Starts a real `cityops serve` on a temporary SQLite database, creates N entities, then sends
PATCH /ngsi-ld/v1/entities/{id}/attrs/{attr} requests (one numeric reading with observedAt each)
from several concurrent keep-alive connections (bench/loadgen.py: requests encoded before the
clock starts, so the client is not what is measured) and measures updates/s. In the same run it
measures the raw engine doing the same work one commit per update (SQLite: one UPDATE of the
entity row and one INSERT of the history row, then COMMIT), so the ratio holds on a noisy
machine. Prints one JSON line.

With --postgresql the same runs on a throwaway PostgreSQL cluster (tests/pgcluster.py),
against PostgreSQL doing the same UPDATE + INSERT + COMMIT per update.

Target (issue "Context-data hub"): >= 2,500 updates/s. Exits non-zero when under target only
with --enforce (the hub's performance work is in progress).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402
from server import Server, pg_cluster, raw_pg_store  # noqa: E402

LINK = (
    "<https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
    'context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)
TARGET = 2_500


def entity_id(i: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:U{i:05d}"


def observed(n: int) -> str:
    """A distinct observedAt per update number (one per second from a fixed day)."""
    return (
        f"2026-11-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
    )


def update_body(n: int) -> bytes:
    return orjson.dumps({"value": (n * 7) % 300 / 3.0, "observedAt": observed(n)})


def http_rate(
    entities: int, updates: int, concurrency: int, database_url: str | None = None
) -> tuple[float, float, float]:
    """Updates/s through the API, p95 latency (ms) and the server's RSS afterwards (MB); on
    `database_url` (a fresh PostgreSQL database), else on SQLite."""
    server = Server(database_url).start()
    try:
        headers = {"X-API-Key": server.key, "Content-Type": "application/json", "Link": LINK}
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            for start in range(0, entities, 1000):
                seed = [
                    {
                        "id": entity_id(i),
                        "type": "AirQualityObserved",
                        "pm25": {"type": "Property", "value": 1.0},
                    }
                    for i in range(start, min(entities, start + 1000))
                ]
                url = "/ngsi-ld/v1/entityOperations/create"
                client.post(url, content=orjson.dumps(seed)).raise_for_status()
        requests = [
            loadgen.encode(
                "PATCH",
                server.base,
                f"/ngsi-ld/v1/entities/{entity_id(n % entities)}/attrs/pm25",
                headers,
                update_body(n),
            )
            for n in range(updates + min(200, updates))
        ]
        loadgen.run(server.base, requests[updates:], concurrency)  # warm-up
        elapsed, latencies, replies = loadgen.run(server.base, requests[:updates], concurrency)
        bad = [r for r in replies if r.status != 204]
        if bad or len(replies) != updates:
            raise RuntimeError(f"{len(bad)} failed: {bad[0] if bad else ''}")
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
        return updates / elapsed, p95, server.rss_mb()
    finally:
        server.stop()


def raw_rate(entities: int, updates: int) -> float:
    """Updates/s of SQLite itself: one UPDATE + one history INSERT + COMMIT per update."""
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(f"{tmp}/raw.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE e (pk INTEGER PRIMARY KEY, entity_id TEXT UNIQUE, attrs TEXT, "
            "modified_at TEXT)"
        )
        db.execute(
            "CREATE TABLE h (id INTEGER PRIMARY KEY, entity_pk INT, attr_id INT, "
            "observed_at TEXT, value_num REAL, instance TEXT)"
        )
        db.execute("CREATE UNIQUE INDEX hx ON h (entity_pk, attr_id, observed_at)")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO e (entity_id, attrs) VALUES (?, '{}')",
            [(entity_id(i),) for i in range(entities)],
        )
        db.execute("COMMIT")
        began = time.perf_counter()
        for n in range(updates):
            pk = n % entities + 1
            inst = {"type": "Property", "value": (n * 7) % 300 / 3.0, "observedAt": observed(n)}
            attrs = orjson.dumps({"pm25": inst}).decode()
            db.execute("BEGIN")
            db.execute(
                "UPDATE e SET attrs = ?, modified_at = ? WHERE pk = ?",
                (attrs, "2026-11-24T05:00:00Z", pk),
            )
            db.execute(
                "INSERT INTO h (entity_pk, attr_id, observed_at, value_num, instance) "
                "VALUES (?, 1, ?, ?, ?)",
                (pk, inst["observedAt"], inst["value"], orjson.dumps(inst).decode()),
            )
            db.execute("COMMIT")
        elapsed = time.perf_counter() - began
        db.close()
    return updates / elapsed


def raw_rate_pg(url: str, entities: int, updates: int) -> float:
    """Updates/s of PostgreSQL itself: the same UPDATE + history INSERT + COMMIT per update."""
    with raw_pg_store(url, [entity_id(i) for i in range(entities)], unique_history=True) as db:
        began = time.perf_counter()
        for n in range(updates):
            pk = n % entities + 1
            inst = {"type": "Property", "value": (n * 7) % 300 / 3.0, "observedAt": observed(n)}
            db.execute(
                "UPDATE e SET attrs = %s, modified_at = '2026-11-24T05:00:00Z' WHERE pk = %s",
                (orjson.dumps({"pm25": inst}).decode(), pk),
            )
            db.execute(
                "INSERT INTO h (entity_pk, attr_id, observed_at, value_num, instance) "
                "VALUES (%s, 1, %s, %s, %s)",
                (pk, inst["observedAt"], inst["value"], orjson.dumps(inst).decode()),
            )
            db.commit()
        elapsed = time.perf_counter() - began
    return updates / elapsed


def run_postgresql(args: argparse.Namespace) -> tuple[float, float, float, float]:
    """The same runs on a throwaway PostgreSQL cluster (tests/pgcluster.py)."""
    cluster = pg_cluster()
    try:
        url = cluster.create_database("updates")
        api, p95, rss = http_rate(args.entities, args.updates, args.concurrency, url)
        raw = raw_rate_pg(cluster.create_database("updates_raw"), args.entities, args.updates)
    finally:
        cluster.stop()
    return api, p95, rss, raw


def main() -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    parser.add_argument("--postgresql", action="store_true", help="run on PostgreSQL")
    args = parser.parse_args()
    if args.postgresql:
        api, p95, rss, raw = run_postgresql(args)
    else:
        api, p95, rss = http_rate(args.entities, args.updates, args.concurrency)
        raw = raw_rate(args.entities, args.updates)
    ok = api >= TARGET
    print(
        json.dumps(
            {
                "benchmark": "ngsi_ld_single_attr_update_http",
                "database": "postgresql" if args.postgresql else "sqlite",
                # the tests' throwaway cluster runs with fsync and synchronous_commit off: a
                # commit there costs less than on a durable server (both rates gain)
                **({"postgresql_fsync": False} if args.postgresql else {}),
                "updates_per_s": round(api),
                "p95_ms": round(p95, 2),
                "raw_engine_updates_per_s": round(raw),
                "ratio": round(api / raw, 3),
                "target_updates_per_s": TARGET,
                "meets_target": ok,
                "server_rss_mb": round(rss, 1),
                "concurrency": args.concurrency,
                "updates": args.updates,
                "entities": args.entities,
            }
        )
    )
    return 0 if ok or not args.enforce else 1


if __name__ == "__main__":
    sys.exit(main())
