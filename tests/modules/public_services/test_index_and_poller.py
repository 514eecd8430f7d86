"""The Decision 766 index, per-procedure figures, and polling a one-stop system's feed."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from cityops.app import create_app
from cityops.core.config import PublicServicesSettings
from cityops.core.policy import system_principal
from cityops.core.scheduler import IntakeFailed
from cityops.modules.indicators import catalogue, values
from cityops.modules.indicators.schemas import IndicatorCreate, ValuePut
from cityops.modules.public_services.jobs import fetch, store_feed
from cityops.modules.public_services.models import Dossier
from cityops.modules.public_services.views import index766, procedure_stats

from .conftest import MARCH, NOW, dossier, load

SYSTEM = system_principal("test")


def _satisfaction(database, unit: str, scores: dict[str, float]) -> None:
    """Enter monthly satisfaction scores (%) through the indicator engine."""
    with database.session() as s:
        indicator = catalogue.create_indicator(
            s,
            SYSTEM,
            IndicatorCreate(
                code="PS766_SATISFACTION",
                name_vi="Mức độ hài lòng (QĐ 766)",
                unit_of_measure="%",
                aggregation="average",
            ),
        )
        for period, value in scores.items():
            data = ValuePut(unit_code=unit, period=period, value=value)
            values.put_value(s, SYSTEM, indicator, data)


def test_the_766_groups_score_out_of_their_points(database, world):
    load(database, MARCH)
    _satisfaction(database, "A1", {"2026-02": 70.0, "2026-03": 90.0})
    with database.session() as s:
        result = index766(s, SYSTEM, PublicServicesSettings(), NOW, "2026-03", "A1")
        february = index766(s, SYSTEM, PublicServicesSettings(), NOW, "2026-02", "A1")
    groups = {g.key: (g.points, g.rate, g.score) for g in result.groups}
    assert sum(points for points, _, _ in groups.values()) == 100
    assert groups["progress"] == (20, 66.67, 13.33)  # 2 of 3 processed on time
    assert groups["online"] == (12, 60.0, 7.2)  # 3 of 5 received online
    assert groups["payment"] == (10, None, None)  # no dossier had a fee
    assert groups["digitisation"] == (22, 0.0, 0.0)
    assert groups["satisfaction"] == (18, 90.0, 16.2)  # entered in the engine for March
    assert groups["public_info"] == (18, None, None)  # nothing entered
    assert result.scored_points == 72
    assert result.total == pytest.approx(36.73)
    assert [g.score for g in february.groups if g.key == "satisfaction"] == [12.6]


def test_procedures_are_listed_slowest_first_with_their_on_time_rate(database, world):
    slow = dossier(
        "S1",
        NOW - timedelta(days=20),
        NOW - timedelta(days=15),
        NOW - timedelta(days=1),
        procedure_code="2.000001",
        procedure_name="Cấp giấy phép xây dựng",
    )
    load(database, [*MARCH, slow])
    with database.session() as s:
        stats = procedure_stats(s, SYSTEM, PublicServicesSettings(), "2026-03", "68")
    assert [(i.procedure_code, i.processed, i.processed_late) for i in stats.items] == [
        ("2.000001", 1, 1),
        ("1.001234", 3, 1),
    ]
    assert stats.items[0].average_processing_days == 19.0
    assert stats.items[1].on_time_rate == pytest.approx(66.67)


class Feed(BaseHTTPRequestHandler):
    """A one-stop system's dossier feed: answers what the test put in `body`."""

    body: bytes = b"[]"
    status: int = 200
    seen_auth: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Feed.seen_auth.append(self.headers.get("Authorization"))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def feed() -> Iterator[str]:
    """A real HTTP server on a free local port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ho-so"
    server.shutdown()
    server.server_close()


def test_the_poller_reads_the_feed_and_upserts_what_it_finds(database, world, feed):
    now = datetime.now(UTC)
    items = [dossier("F1", now - timedelta(days=1), now + timedelta(days=2))]
    Feed.body, Feed.status = json.dumps({"items": items}).encode(), 200
    conf = PublicServicesSettings(source_url=feed, source_token="bi-mat")
    fetched = asyncio.run(fetch(conf))
    assert Feed.seen_auth[-1] == "Bearer bi-mat"
    first = store_feed(database, conf, fetched)
    again = store_feed(database, conf, fetched)
    assert (first.created, again.created, again.unchanged) == (1, 0, 1)
    with database.session() as s:
        assert s.scalar(select(func.count(Dossier.id))) == 1


def test_a_failing_feed_is_reported_as_an_intake_failure(feed):
    Feed.body, Feed.status = "<html>lỗi</html>".encode(), 502
    with pytest.raises(IntakeFailed, match="502"):
        asyncio.run(fetch(PublicServicesSettings(source_url=feed)))
    Feed.body, Feed.status = b'{"unexpected": 1}', 200
    with pytest.raises(IntakeFailed, match="expected a list"):
        asyncio.run(fetch(PublicServicesSettings(source_url=feed)))


def test_the_poller_runs_only_when_a_source_is_configured(settings, database, feed):
    configured = settings.model_copy(
        update={"public_services": PublicServicesSettings(source_url=feed)}
    )
    app = create_app(configured, db=database)
    assert "public_services.poller" in app.state.registry.intake_jobs
