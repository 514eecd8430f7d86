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
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import Server  # noqa: E402

TARGET_P95_MS = 100.0
VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
START = datetime(2026, 1, 1, tzinfo=UTC)


def eid(i: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:T{i:04d}"


def seed(server: Server, entities: int, instances: int) -> tuple[dict[int, int], int, int]:
    """Create the entities through the API, then raw-insert the history; return the entity
    pks, the attribute id and the number of days covered."""
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
        pk = pks[i]
        for m in range(per_entity):
            t = START + timedelta(minutes=m)
            value = (m * 7 + i) % 300 / 3.0
            stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            inst = f'{{"type":"Property","value":{value!r},"observedAt":"{stamp}"}}'
            yield (pk, attr, t.strftime("%Y-%m-%d %H:%M:%S.000000"), modified, value, inst)

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


def main() -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    args = parser.parse_args()
    server = Server().start()
    try:
        t0 = time.perf_counter()
        pks, attr, days = seed(server, args.entities, args.instances)
        load_s = time.perf_counter() - t0
        jobs = picks(args.entities, days, args.queries + 5)
        p50, p95, buckets = measure_http(server, jobs)
        raw_p50, raw_p95 = measure_raw(server.url.removeprefix("sqlite:///"), pks, attr, jobs)
        rss = server.rss_mb()
    finally:
        server.stop()
    ok = p95 <= TARGET_P95_MS
    print(
        json.dumps(
            {
                "benchmark": "ngsi_ld_temporal_hourly_avg_http",
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
                "raw_engine_p50_ms": round(raw_p50, 2),
                "raw_engine_p95_ms": round(raw_p95, 2),
                "ratio_p95": round(p95 / raw_p95, 2) if raw_p95 else None,
                "target_p95_ms": TARGET_P95_MS,
                "meets_target": ok,
                "buckets_per_answer": buckets,
                "server_rss_mb": round(rss, 1),
                "instances": args.instances,
                "entities": args.entities,
                "days": days,
                "load_s": round(load_s, 1),
                "queries": args.queries,
            }
        )
    )
    return 0 if ok or not args.enforce else 1


if __name__ == "__main__":
    sys.exit(main())
