"""Benchmark: batched NGSI-LD ingest over HTTP vs the storage engine's own bulk insert.

Starts a real `cityops serve` on a temporary SQLite database, creates N stations, then sends
batches of 1,000 readings (entityOperations/upsert?options=update, one pm25 reading per
station) and measures readings/s. In the same run it measures the raw engine writing the same
rows (SQLite executemany into the server's own migrated tables: the entity row's attrs, the
value-index row, the history row, per reading; raw_rate_same_rows) so the ratio holds on a
noisy machine. It also prints the older, leaner baseline (two bare tables, one UPDATE and one
INSERT a reading: `raw_minimal_readings_per_s`) so figures compare across sessions. Prints
JSON.

With --postgresql the same runs on a throwaway PostgreSQL cluster (tests/pgcluster.py), and
the raw engine writes the same rows with COPY (the entity rows' new attrs through a temporary
table and one UPDATE ... FROM, the history rows straight in), one transaction per batch.

With --clients N, N gateways send their batches at once, each on its own connection (the
default, 1, sends one batch after another: the figures in the README).

A second run on a fresh server has 1,000 alert rules active (the alert benchmark's set, 1%
of them on these stations' type), as the alerts issue asks that they not slow ingestion.

Targets (issue "Context-data hub"): >= 30,000 readings/s and >= 0.3 of the raw rate. Exits
non-zero when under target only with --enforce (the hub's performance work is in progress).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import Server, pg_cluster, pg_dsn, raw_pg_store  # noqa: E402

LINK = (
    "<https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
    'context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)
TARGET = 30_000
TARGET_RATIO = 0.3


def batch(stations: int, tick: int, start: int) -> list[dict]:
    """One reading of pm25 for `stations` stations starting at `start`."""
    minute = tick % 60
    return [
        {
            "id": f"urn:ngsi-ld:AirQualityObserved:S{i:05d}",
            "type": "AirQualityObserved",
            "pm25": {
                "type": "Property",
                "value": (i * 7 + tick) % 300 / 3.0,
                "observedAt": f"2026-11-24T{tick // 60 % 24:02d}:{minute:02d}:00Z",
            },
        }
        for i in range(start, start + stations)
    ]


def add_rules(server: Server, count: int) -> None:
    """Create `count` alert rules (the alert benchmark's set: 1% on these stations' type)."""
    from bench_alert_latency import OTHER_TYPES, probe_reading, rule_bodies

    if not count:
        return
    admin = {"X-API-Key": server.cli("create-api-key", "--name", "admin", "--role", "admin")}
    with httpx.Client(base_url=server.base, headers=admin, timeout=120) as client:
        for kind, attr in OTHER_TYPES:  # rules may name only attributes the hub has seen
            body = {"entity_id": f"urn:ngsi-ld:{kind}:seed", "type": kind, "attrs": {attr: 1.0}}
            client.post("/api/intake/readings", json={"readings": [body]}).raise_for_status()
        client.post("/api/intake/readings", json=probe_reading(1.0)).raise_for_status()
        for body in rule_bodies(count):
            r = client.post("/api/alerts/rules", json=body)
            if r.status_code != 201:
                raise RuntimeError(r.text[:500])


def http_rate(
    stations: int,
    batches: int,
    rules: int = 0,
    database_url: str | None = None,
    clients: int = 1,
) -> tuple[float, float]:
    """Readings/s through the API (with `rules` alert rules active), and the server's RSS
    afterwards (MB). On `database_url` (a fresh PostgreSQL database), else on SQLite.
    `clients`: gateways sending their batches at once, each on its own connection."""
    server = Server(database_url).start()
    try:
        headers = {"X-API-Key": server.key, "Content-Type": "application/json", "Link": LINK}
        with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
            url = "/ngsi-ld/v1/entityOperations/upsert?options=update"
            for start in range(0, stations, 1000):
                seed = batch(min(1000, stations - start), 0, start)
                for e in seed:
                    e["location"] = {
                        "type": "GeoProperty",
                        "value": {"type": "Point", "coordinates": [108.1, 10.93]},
                    }
                client.post(url, content=orjson.dumps(seed)).raise_for_status()
            add_rules(server, rules)
            bodies = [
                orjson.dumps(batch(1000, t + 1, (t * 1000) % stations)) for t in range(batches)
            ]

            def send(share: list[bytes]) -> None:
                with httpx.Client(base_url=server.base, headers=headers, timeout=120) as own:
                    for body in share:
                        response = own.post(url, content=body)
                        if response.status_code not in (201, 204):
                            raise RuntimeError(response.text[:500])

            began = time.perf_counter()
            if clients == 1:
                send(bodies)
            else:
                with ThreadPoolExecutor(clients) as pool:
                    list(pool.map(send, [bodies[k::clients] for k in range(clients)]))
            elapsed = time.perf_counter() - began
        return batches * 1000 / elapsed, server.rss_mb()
    finally:
        server.stop()


PM25 = "https://smartdatamodels.org/dataModel.Environment/pm25"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def raw_rate_same_rows(stations: int, batches: int) -> float:
    """Readings/s of SQLite itself writing the rows the server writes for a reading, in the
    server's own tables (a `cityops migrate`d database: the same indexes, constraints and
    pragmas): the entity row's attrs and modifiedAt, the attribute's value-index row, the
    history row (an upsert on the reading's key, as a retried batch needs), one executemany
    each and one transaction a batch. The attrs are encoded as the server stores them."""
    server = Server()  # never started: only its migrated database is used
    try:
        server.cli("migrate")
        db = sqlite3.connect(server.url.removeprefix("sqlite:///"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("PRAGMA cache_size=-65536")
        now = "2026-11-24 05:00:00.000000"
        db.execute("BEGIN")
        aid = db.execute("INSERT INTO ctx_attr_names (iri) VALUES (?)", (PM25,)).lastrowid
        db.executemany(
            "INSERT INTO ctx_entities (pk, tenant, entity_id, type, attrs, created_at, "
            "modified_at) VALUES (?, '', ?, 'AirQualityObserved', '{}', ?, ?)",
            [
                (i + 1, f"urn:ngsi-ld:AirQualityObserved:S{i:05d}", now, now)
                for i in range(stations)
            ],
        )
        db.executemany(
            "INSERT INTO ctx_attr_values (entity_pk, attr, value_num) VALUES (?, ?, 0)",
            [(i + 1, PM25) for i in range(stations)],
        )
        db.execute("COMMIT")
        location = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [108.1, 10.9]}}
        rows = [batch(1000, t + 1, (t * 1000) % stations) for t in range(batches)]
        began = time.perf_counter()
        for readings in rows:
            db.execute("BEGIN IMMEDIATE")
            pks, instances = [], []
            for r in readings:
                pks.append(int(r["id"][-5:]) + 1)
                instances.append(r["pm25"] | {"createdAt": now, "modifiedAt": now})
            db.executemany(
                "UPDATE ctx_entities SET attrs = ?, modified_at = ? WHERE pk = ?",
                [
                    (orjson.dumps({PM25: inst, LOCATION: location}).decode(), now, pk)
                    for pk, inst in zip(pks, instances, strict=True)
                ],
            )
            db.executemany(
                "UPDATE ctx_attr_values SET value_num = ? WHERE entity_pk = ? AND attr = ?",
                [(inst["value"], pk, PM25) for pk, inst in zip(pks, instances, strict=True)],
            )
            db.executemany(
                "INSERT INTO ctx_attr_instances (entity_pk, attr_id, observed_at, modified_at, "
                "dataset_id, value_num, instance) VALUES (?, ?, ?, ?, '', ?, ?) "
                "ON CONFLICT (entity_pk, attr_id, observed_at, dataset_id) DO UPDATE SET "
                "value_num = excluded.value_num, instance = excluded.instance, "
                "modified_at = excluded.modified_at",
                [
                    (
                        pk,
                        aid,
                        inst["observedAt"].replace("T", " ").replace("Z", ".000000"),
                        now,
                        inst["value"],
                        orjson.dumps(inst).decode(),
                    )
                    for pk, inst in zip(pks, instances, strict=True)
                ],
            )
            db.execute("COMMIT")
        elapsed = time.perf_counter() - began
        db.close()
    finally:
        server.stop()
    return batches * 1000 / elapsed


def raw_rate(stations: int, batches: int) -> float:
    """Readings/s of SQLite doing the least a reading needs: one UPDATE of a bare entity row
    and one INSERT of a history row into two tables of one index each (the baseline before
    raw_rate_same_rows; kept so figures stay comparable across sessions)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(f"{tmp}/raw.db")
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
        db.execute("CREATE INDEX hx ON h (entity_pk, attr_id, observed_at)")
        db.executemany(
            "INSERT INTO e (entity_id, attrs) VALUES (?, '{}')",
            [(f"S{i:05d}",) for i in range(stations)],
        )
        db.commit()
        rows = [batch(1000, t + 1, (t * 1000) % stations) for t in range(batches)]
        began = time.perf_counter()
        for readings in rows:
            ids = {r["id"]: i + 1 for i, r in enumerate(readings)}
            db.executemany(
                "UPDATE e SET attrs = ?, modified_at = ? WHERE pk = ?",
                [
                    (orjson.dumps(r).decode(), "2026-11-24T05:00:00Z", ids[r["id"]])
                    for r in readings
                ],
            )
            db.executemany(
                "INSERT INTO h (entity_pk, attr_id, observed_at, value_num, instance) "
                "VALUES (?, 1, ?, ?, ?)",
                [
                    (
                        ids[r["id"]],
                        r["pm25"]["observedAt"],
                        r["pm25"]["value"],
                        orjson.dumps(r["pm25"]).decode(),
                    )
                    for r in readings
                ],
            )
            db.commit()
        elapsed = time.perf_counter() - began
        db.close()
    return batches * 1000 / elapsed


def raw_rate_pg(url: str, stations: int, batches: int) -> float:
    """Readings/s of PostgreSQL itself doing the same writes in bulk, one transaction per
    batch: the entity rows' new attrs COPYed into a temporary table and applied with one
    UPDATE ... FROM, the history rows COPYed in."""
    with raw_pg_store(url, [f"S{i:05d}" for i in range(stations)], unique_history=False) as db:
        rows = [batch(1000, t + 1, (t * 1000) % stations) for t in range(batches)]
        began = time.perf_counter()
        for readings in rows:
            ids = {r["id"]: i + 1 for i, r in enumerate(readings)}
            db.execute("CREATE TEMP TABLE u (pk int, attrs jsonb) ON COMMIT DROP")
            with db.cursor().copy("COPY u (pk, attrs) FROM STDIN") as copy:
                for r in readings:
                    copy.write_row((ids[r["id"]], orjson.dumps(r).decode()))
            db.execute(
                "UPDATE e SET attrs = u.attrs, modified_at = '2026-11-24T05:00:00Z' "
                "FROM u WHERE e.pk = u.pk"
            )
            columns = "entity_pk, attr_id, observed_at, value_num, instance"
            with db.cursor().copy(f"COPY h ({columns}) FROM STDIN") as copy:
                for r in readings:
                    pm25 = r["pm25"]
                    copy.write_row(
                        (
                            ids[r["id"]],
                            1,
                            pm25["observedAt"],
                            pm25["value"],
                            orjson.dumps(pm25).decode(),
                        )
                    )
            db.commit()
        elapsed = time.perf_counter() - began
    return batches * 1000 / elapsed


def raw_rate_same_rows_pg(url: str, stations: int, batches: int) -> float:
    """raw_rate_same_rows on PostgreSQL: the server's own migrated tables (history partitioned
    by month, its partitions made as the server makes them at start-up), each batch's rows
    COPYed into temporary tables and applied with one statement per table (the entities' and
    the value index's UPDATE ... FROM, the history's INSERT ... ON CONFLICT), one transaction
    a batch."""
    import psycopg

    from cityops.context.partitions import prepare
    from cityops.core.config import TemporalSettings
    from cityops.core.db import Database

    Server(url).cli("migrate")
    database = Database(url)
    prepare(database, TemporalSettings())  # the months' partitions, as the server's start-up
    database.dispose()
    now = "2026-11-24T05:00:00Z"
    with psycopg.connect(pg_dsn(url)) as db:
        aid = db.execute(
            "INSERT INTO ctx_attr_names (iri) VALUES (%s) RETURNING id", (PM25,)
        ).fetchone()[0]
        with db.cursor().copy(
            "COPY ctx_entities (pk, tenant, entity_id, type, attrs, created_at, modified_at) "
            "FROM STDIN"
        ) as copy:
            for i in range(stations):
                eid = f"urn:ngsi-ld:AirQualityObserved:S{i:05d}"
                copy.write_row((i + 1, "", eid, "AirQualityObserved", "{}", now, now))
        with db.cursor().copy(
            "COPY ctx_attr_values (entity_pk, attr, value_num) FROM STDIN"
        ) as copy:
            for i in range(stations):
                copy.write_row((i + 1, PM25, 0.0))
        db.commit()
        location = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [108.1, 10.9]}}
        rows = [batch(1000, t + 1, (t * 1000) % stations) for t in range(batches)]
        began = time.perf_counter()
        for readings in rows:
            db.execute(
                "CREATE TEMP TABLE u (pk int, attrs jsonb, num float8, observed timestamptz, "
                "instance jsonb) ON COMMIT DROP"
            )
            with db.cursor().copy("COPY u (pk, attrs, num, observed, instance) FROM STDIN") as copy:
                for r in readings:
                    inst = r["pm25"] | {"createdAt": now, "modifiedAt": now}
                    attrs = orjson.dumps({PM25: inst, LOCATION: location}).decode()
                    pk = int(r["id"][-5:]) + 1
                    copy.write_row(
                        (pk, attrs, inst["value"], inst["observedAt"], orjson.dumps(inst).decode())
                    )
            db.execute(
                "UPDATE ctx_entities e SET attrs = u.attrs, modified_at = %s FROM u "
                "WHERE e.pk = u.pk",
                (now,),
            )
            db.execute(
                "UPDATE ctx_attr_values v SET value_num = u.num FROM u "
                "WHERE v.entity_pk = u.pk AND v.attr = %s",
                (PM25,),
            )
            db.execute(
                "INSERT INTO ctx_attr_instances (entity_pk, attr_id, observed_at, modified_at, "
                "dataset_id, value_num, instance) SELECT pk, %s, observed, %s, '', num, instance "
                "FROM u ON CONFLICT (entity_pk, attr_id, observed_at, dataset_id) DO UPDATE SET "
                "value_num = excluded.value_num, instance = excluded.instance, "
                "modified_at = excluded.modified_at",
                (aid, now),
            )
            db.commit()
        elapsed = time.perf_counter() - began
    return batches * 1000 / elapsed


def run_postgresql(
    args: argparse.Namespace,
) -> tuple[float, float, float | None, float, float]:
    """The same runs on a throwaway PostgreSQL cluster (tests/pgcluster.py), one fresh
    database each: (API rate, RSS, rate with rules, raw COPY rate of the same rows, of the
    minimal rows)."""
    cluster = pg_cluster()
    try:
        url = cluster.create_database("ingest")
        api, rss = http_rate(args.stations, args.batches, 0, url, args.clients)
        with_rules = None
        if args.rules:
            url = cluster.create_database("ingest_rules")
            with_rules = http_rate(args.stations, args.batches, args.rules, url, args.clients)[0]
        raw = raw_rate_same_rows_pg(
            cluster.create_database("ingest_same"), args.stations, args.batches
        )
        minimal = raw_rate_pg(cluster.create_database("ingest_raw"), args.stations, args.batches)
    finally:
        cluster.stop()
    return api, rss, with_rules, raw, minimal


def main() -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument(
        "--rules", type=int, default=1000, help="alert rules for the second run (0: skip it)"
    )
    parser.add_argument("--enforce", action="store_true", help="exit 1 when under target")
    parser.add_argument(
        "--postgresql", action="store_true", help="run on PostgreSQL (raw engine: COPY)"
    )
    parser.add_argument(
        "--clients", type=int, default=1, help="gateways sending batches at once (default 1)"
    )
    args = parser.parse_args()
    if args.postgresql:
        api, rss, with_rules, raw, minimal = run_postgresql(args)
    else:
        api, rss = http_rate(args.stations, args.batches, clients=args.clients)
        with_rules = (
            http_rate(args.stations, args.batches, args.rules, clients=args.clients)[0]
            if args.rules
            else None
        )
        raw = raw_rate_same_rows(args.stations, args.batches)
        minimal = raw_rate(args.stations, args.batches)
    ok = api >= TARGET and api / raw >= TARGET_RATIO
    print(
        json.dumps(
            {
                "benchmark": "ngsi_ld_batch_ingest_http",
                "database": "postgresql" if args.postgresql else "sqlite",
                # the throwaway cluster of the tests runs with fsync and synchronous_commit off:
                # both rates are faster than on a durable server, the ratio holds
                **({"postgresql_fsync": False} if args.postgresql else {}),
                "readings_per_s": round(api),
                "raw_engine_readings_per_s": round(raw),
                "ratio": round(api / raw, 3),
                "raw_minimal_readings_per_s": round(minimal),
                "ratio_to_minimal": round(api / minimal, 3),
                "target_readings_per_s": TARGET,
                "target_ratio": TARGET_RATIO,
                "meets_target": ok,
                "server_rss_mb": round(rss, 1),
                "with_alert_rules": {
                    "rules": args.rules,
                    "readings_per_s": round(with_rules),
                    "ratio_to_no_rules": round(with_rules / api, 3),
                }
                if with_rules
                else None,
                "batch_size": 1000,
                "clients": args.clients,
                "batches": args.batches,
                "stations": args.stations,
            }
        )
    )
    return 0 if ok or not args.enforce else 1


if __name__ == "__main__":
    sys.exit(main())
