"""Statements run on SQLite's own cursor (core.driver) answer exactly as SQLAlchemy does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from cityops.core.db import Database, JSONType, UTCDateTime
from cityops.core.driver import fetch_all, fetch_first, select_plan

META = sa.MetaData()
READINGS = sa.Table(
    "readings",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("station", sa.String(64)),
    sa.Column("doc", JSONType),
    sa.Column("at", UTCDateTime),
    sa.Column("level", sa.Float),
)
T0 = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/driver.db")
    META.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(
            READINGS.insert(),
            [
                {
                    "station": f"Cà Ty {i}",
                    "doc": {"water level": i * 0.5, "tags": ["sông", i]},
                    "at": T0 + timedelta(minutes=10 * i),
                    "level": i * 0.5,
                }
                for i in range(12)
            ],
        )
    yield db
    db.engine.dispose()


def test_a_select_on_the_driver_returns_what_sqlalchemy_returns(db):
    t = READINGS.c
    stmt = (
        sa.select(*READINGS.c)
        .where(t.doc["water level"].as_float() > sa.bindparam("low"))
        .where(t.at >= sa.bindparam("since"))
        .order_by(t.id)
        .limit(4)
        .offset(1)
    )
    params = {"low": 1.2, "since": T0 + timedelta(minutes=25)}
    with db.engine.connect() as conn:
        plan = select_plan(conn, stmt)
        assert plan is not None
        core = [tuple(r) for r in conn.execute(stmt, params).all()]
        driver = fetch_all(conn, stmt, params, plan)
    assert [tuple(r) for r in driver] == core and len(core) == 4
    first = driver[0]
    # i = 3 is the first match, skipped by the offset
    assert first.station == "Cà Ty 4" and first.doc == {"water level": 2.0, "tags": ["sông", 4]}
    assert first.at == T0 + timedelta(minutes=40) and first.at.tzinfo is not None


def test_statements_sqlalchemy_must_expand_stay_with_sqlalchemy(db):
    stmt = sa.select(READINGS.c.id).where(READINGS.c.station.in_(["Cà Ty 1", "Cà Ty 2"]))
    with db.engine.connect() as conn:
        assert select_plan(conn, stmt) is None
        assert sorted(r.id for r in fetch_all(conn, stmt, {}, None)) == [2, 3]


def test_fetch_first_and_driver_errors_are_sqlalchemy_errors(db):
    by_station = sa.select(READINGS.c.id, READINGS.c.doc).where(
        READINGS.c.station == sa.bindparam("s")
    )
    with db.engine.connect() as conn:
        assert fetch_first(conn, by_station, {"s": "Cà Ty 7"}) == (
            8,
            {"water level": 3.5, "tags": ["sông", 7]},
        )
        assert fetch_first(conn, by_station, {"s": "Phú Thủy"}) is None
        broken = sa.select(sa.text("nope")).select_from(READINGS)
        plan = select_plan(conn, broken)
        with pytest.raises(OperationalError):
            fetch_all(conn, broken, {}, plan)


KEYED = sa.Table(
    "driver_keyed",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("station", sa.String(64)),
    sa.Column("attr", sa.String(64)),
    sa.Column("doc", JSONType),
    sa.Column("at", UTCDateTime),
    sa.Column("level", sa.Float),
)


def test_many_row_updates_and_deletes_change_exactly_the_rows_named(database_url):
    """executemany of a keyed UPDATE/DELETE (on PostgreSQL one statement over arrays) sets
    each row its own values, JSON and times and NULLs included, reports the rows it changed,
    and applies rows sharing a key one after the other, as executemany always did."""
    from cityops.core import driver

    db = Database(database_url)
    KEYED.drop(db.engine, checkfirst=True)
    KEYED.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(
                KEYED.insert(),
                [
                    {"station": f"S{i}", "attr": a, "doc": {}, "at": T0, "level": 0.0}
                    for i in range(4)
                    for a in ("pm25", "no2")
                ],
            )
        k = KEYED.c
        update = (
            sa.update(KEYED)
            .where(k.station == sa.bindparam("b_station"), k.attr == sa.bindparam("b_attr"))
            .values(doc=sa.bindparam("b_doc"), at=sa.bindparam("b_at"), level=sa.bindparam("b_lv"))
        )
        rows = [
            {
                "b_station": f"S{i}",
                "b_attr": "pm25",
                "b_doc": {"giá trị": i, "tags": ["sông", None]} if i != 2 else None,
                "b_at": T0 + timedelta(hours=i),
                "b_lv": None if i == 3 else i * 1.5,
            }
            for i in range(3, -1, -1)
        ]
        with db.engine.begin() as conn:
            assert driver.executemany(conn, update, rows) == 4
        if db.dialect == "postgresql":
            assert driver._PG_PLANS[update] is not None  # the one-statement form ran
        with db.engine.connect() as conn:
            got = {
                (r.station, r.attr): (r.doc, r.at, r.level) for r in conn.execute(sa.select(KEYED))
            }
        for i in range(4):
            doc = {"giá trị": i, "tags": ["sông", None]} if i != 2 else None
            level = None if i == 3 else i * 1.5
            assert got[(f"S{i}", "pm25")] == (doc, T0 + timedelta(hours=i), level)
            assert got[(f"S{i}", "no2")] == ({}, T0, 0.0)  # the other key column is kept to

        twice = [{**rows[0], "b_lv": 7.0}, {**rows[0], "b_lv": 8.0}]  # same key: both, in turn
        with db.engine.begin() as conn:
            assert driver.executemany(conn, update, twice) == 2
            level = conn.scalar(sa.select(k.level).where(k.station == "S3", k.attr == "pm25"))
        assert level == 8.0

        delete = sa.delete(KEYED).where(
            k.station == sa.bindparam("d_station"), k.attr == sa.bindparam("d_attr")
        )
        gone = [{"d_station": "S1", "d_attr": "no2"}, {"d_station": "S2", "d_attr": "pm25"}]
        with db.engine.begin() as conn:
            assert (
                driver.executemany(conn, delete, gone + [{"d_station": "S9", "d_attr": "x"}]) == 2
            )
        with db.engine.connect() as conn:
            left = set(conn.execute(sa.select(k.station, k.attr)).all())
        assert len(left) == 6 and ("S1", "no2") not in left and ("S2", "pm25") not in left
    finally:
        KEYED.drop(db.engine, checkfirst=True)
        db.dispose()
