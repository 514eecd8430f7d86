"""Near-due and overdue events, the list of dossiers about to be late, KPIs and widgets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from cityops.core.bus import InProcessBus
from cityops.core.config import PublicServicesSettings
from cityops.modules.public_services.events import DossierNearDue, DossierOverdue
from cityops.modules.public_services.jobs import due_job, run_check

from .conftest import MARCH, NOW, dossier, load
from .conftest import VN as VN_TZ

SETTINGS = PublicServicesSettings()


def test_the_check_sends_overdue_and_near_due_once_per_dossier(database, world):
    load(database, MARCH)
    events = run_check(database, SETTINGS, NOW)
    kinds = sorted((type(e).__name__, e.external_id) for e in events)
    assert kinds == [
        ("DossierNearDue", "D6"),
        ("DossierNearDue", "D7"),
        ("DossierOverdue", "D3"),
        ("DossierOverdue", "D9"),
    ]
    assert {e.name for e in events} == {
        "public_services.dossier_near_due",
        "public_services.dossier_overdue",
    }
    assert run_check(database, SETTINGS, NOW) == []
    # A day later D6 and D7 are overdue: one more event each, then silence again.
    later = run_check(database, SETTINGS, NOW + timedelta(days=1, hours=1))
    assert sorted((type(e).__name__, e.external_id) for e in later) == [
        ("DossierOverdue", "D6"),
        ("DossierOverdue", "D7"),
    ]


def test_a_new_due_time_makes_the_dossier_eligible_again(database, world):
    load(database, MARCH)
    run_check(database, SETTINGS, NOW)
    extended = MARCH[2] | {"due_at": (NOW + timedelta(hours=3)).isoformat()}  # D3
    load(database, [extended])
    events = run_check(database, SETTINGS, NOW)
    assert [(type(e), e.external_id) for e in events] == [(DossierNearDue, "D3")]


def test_the_job_publishes_on_the_bus_for_the_alerts_engine(database, world, settings):
    load(database, MARCH)
    bus = InProcessBus()
    seen: list = []
    bus.subscribe("public_services.*", seen.append)
    job = due_job(database, bus, settings)

    async def run() -> None:
        await job()
        await bus.drain()

    asyncio.run(run())
    # The job runs on the real clock: every open March dossier is long overdue by now.
    assert sorted(e.external_id for e in seen) == ["D3", "D6", "D7", "D8", "D9"]
    assert all(isinstance(e, DossierOverdue) for e in seen)
    assert seen[0].to_dict()["event"] == "public_services.dossier_overdue"


def test_the_module_registers_its_events_kpis_and_widgets(client, world, app):
    registry = app.state.registry
    assert {"public_services.dossier_near_due", "public_services.dossier_overdue"} <= set(
        registry.events
    )
    assert "public_services.due_check" in registry.intake_jobs
    assert "public_services.poller" not in registry.intake_jobs  # no source URL configured
    widgets = client.get("/api/widgets", headers=world.headers["leader"]).json()
    urls = {w["data_url"] for w in widgets if w["module"] == "public_services"}
    assert urls == {
        "/api/public-services/counters",
        "/api/public-services/near-due",
        "/api/public-services/index-766",
    }


def test_kpis_show_this_years_rates_for_the_callers_unit(client, world):
    now = datetime.now(UTC)
    received = max(now - timedelta(days=2), datetime(now.year, 1, 1, 1, tzinfo=UTC))
    done = received + timedelta(hours=1)
    items = [
        dossier("K1", received, now + timedelta(days=5), finished=done),
        dossier("K2", received, received + timedelta(minutes=1), finished=done, channel="offline"),
        dossier("K3", received, now + timedelta(hours=2)),
    ]
    body = client.post(
        "/api/public-services/dossiers", json={"items": items}, headers=world.headers["operator"]
    ).json()
    assert body["errors"] == []
    kpis = client.get("/api/kpis", headers=world.headers["leader"]).json()
    mine = {k["key"]: k for k in kpis if k["module"] == "public_services"}
    assert mine["public_services.on_time_rate"]["value"] == 50.0
    assert mine["public_services.online_rate"]["value"] == 66.67
    assert mine["public_services.in_progress_near_late"]["value"] == 1.0
    assert mine["public_services.in_progress_late"]["higher_is_better"] is False
    assert mine["public_services.on_time_rate"]["title_vi"] == "Tỉ lệ hồ sơ giải quyết đúng hạn"


def test_the_near_due_list_puts_the_most_urgent_first_within_scope(client, world):
    now = datetime.now(UTC)
    items = [
        dossier("N-LATE", now - timedelta(days=3), now - timedelta(hours=5)),
        dossier("N-SOON", now - timedelta(days=3), now + timedelta(hours=2)),
        dossier("N-LATER", now - timedelta(days=3), now + timedelta(days=9)),
        dossier("N-B", now - timedelta(days=3), now - timedelta(hours=1), unit="B1", agency="MC-B"),
    ]
    client.post(
        "/api/public-services/dossiers", json={"items": items}, headers=world.headers["operator"]
    )
    province = client.get("/api/public-services/near-due", headers=world.headers["leader"]).json()
    assert [i["external_id"] for i in province["items"]] == ["N-LATE", "N-B", "N-SOON"]
    assert [i["late"] for i in province["items"]] == [True, True, False]
    commune = client.get("/api/public-services/near-due", headers=world.headers["commune_a"])
    assert [i["external_id"] for i in commune.json()["items"]] == ["N-LATE", "N-SOON"]


def test_the_page_endpoints_answer_in_both_languages(client, world):
    now = datetime.now(UTC)
    items = [dossier("W1", now - timedelta(days=2), now + timedelta(days=1), finished=now)]
    client.post(
        "/api/public-services/dossiers", json={"items": items}, headers=world.headers["operator"]
    )
    headers = world.headers["leader"]
    month = now.astimezone(VN_TZ).strftime("%Y-%m")
    index = client.get("/api/public-services/index-766", params={"period": month}, headers=headers)
    assert index.status_code == 200, index.text
    groups = {g["key"]: g for g in index.json()["groups"]}
    assert groups["progress"]["label_vi"] == "Tiến độ giải quyết"
    assert groups["progress"]["label_en"] == "Progress of resolution"
    assert groups["progress"]["score"] == 20.0
    procs = client.get("/api/public-services/procedures", params={"period": month}, headers=headers)
    assert [p["procedure_code"] for p in procs.json()["items"]] == ["1.001234"]
    choices = client.get("/api/public-services/choices", headers=headers).json()
    late = next(c for c in choices["counters"] if c["value"] == "in_progress_late")
    assert (late["label_vi"], late["colour"]) == ("Đang giải quyết - quá hạn", "#dc3545")
    bad = client.get("/api/public-services/counters", params={"period": "2026-13"}, headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_period")
