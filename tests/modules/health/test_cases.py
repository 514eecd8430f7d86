"""Weekly case counts: import with per-row errors, upserts, scoping, and outbreak signals."""

from __future__ import annotations

from sqlalchemy import select

from cityops.core.audit import AuditEntry

# Weeks 2026-W10 .. W21 in ward A (Mũi Né): a usual pattern, then 14 dengue cases.
PATTERN = [0, 2, 4, 2, 0, 2, 4, 2, 0, 2, 4, 14]


def _rows(unit="22918", disease="dengue", counts=PATTERN, first_week=10):
    return [
        {"disease": disease, "unit_code": unit, "week": f"2026-W{first_week + i:02d}", "cases": n}
        for i, n in enumerate(counts)
    ]


def _post(client, headers, rows):
    response = client.post("/api/health/cases", json=rows, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_csv_upload_keeps_the_good_rows_and_reports_each_bad_one(client, world):
    csv = (
        "disease,unit_code,week,cases,deaths\n"
        "dengue,22918,2026-W10,3,0\n"
        "cholera,22918,2026-W10,1,0\n"  # unknown disease
        "dengue,24778,2026-W10,2,0\n"  # ward B: outside the uploader's scope
        "hfmd,22918,2026-W10,ba,0\n"  # text in a number cell
        "hfmd,22918,2030-W01,1,0\n"  # a week that has not started
        "hfmd,22918,2026-W10,2.5,0\n"  # not a whole number
        "dengue,22918,2026-03-04,4,0\n"  # same week as row 2 (a date in W10)
        "hfmd,22918,2026-03-02,1,\n"  # a date is read as its ISO week; blank deaths = 0
    )
    response = client.post(
        "/api/health/cases/import",
        files={"file": ("ca-benh.csv", csv.encode(), "text/csv")},
        headers=world.headers["ward_a"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 2
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "disease"),
        (4, "unit_code"),
        (5, "cases"),
        (6, "week"),
        (7, "cases"),
        (8, None),
    ]
    listed = client.get("/api/health/cases", headers=world.headers["operator"]).json()
    assert [(c["disease"], c["unit_code"], c["week"], c["cases"]) for c in listed["items"]] == [
        ("dengue", "22918", "2026-W10", 3),
        ("hfmd", "22918", "2026-W10", 1),
    ]
    assert listed["items"][0]["disease_vi"] == "Sốt xuất huyết Dengue"


def test_a_csv_without_the_required_columns_is_refused_as_a_whole(client, world):
    response = client.post(
        "/api/health/cases/import",
        files={"file": ("x.csv", b"disease,week\ndengue,2026-W10\n", "text/csv")},
        headers=world.headers["operator"],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "missing_columns"
    assert "unit_code" in response.json()["detail"]


def test_sending_a_week_again_replaces_it_and_is_audited(client, world, database):
    _post(client, world.headers["operator"], _rows(counts=[3], first_week=10))
    _post(client, world.headers["operator"], _rows(counts=[5], first_week=10))
    items = client.get("/api/health/cases", headers=world.headers["operator"]).json()["items"]
    assert [(c["week"], c["cases"]) for c in items] == [("2026-W10", 5)]
    with database.session() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "health.cases_put")
            .order_by(AuditEntry.id)
        ).all()
        assert [e.entity_id for e in entries] == ["dengue/22918/2026-W10"] * 2
        assert entries[1].before["cases"] == 3 and entries[1].after["cases"] == 5


def test_a_commune_breaking_out_of_its_usual_range_raises_a_signal_and_an_event(client, world):
    seen = []
    client.app.state.bus.subscribe("health.*", seen.append)
    result = _post(client, world.headers["operator"], _rows())
    client.portal.call(client.app.state.bus.drain)
    assert result == {"imported": 12, "errors": [], "signals": 1}
    signals = client.get("/api/health/signals", headers=world.headers["leader"]).json()
    assert signals["total"] == 1
    signal = signals["items"][0]
    assert (signal["disease"], signal["unit_code"], signal["week"], signal["cases"]) == (
        "dengue",
        "22918",
        "2026-W21",
        14,
    )
    # Hand-computed in test_ears: C1 = C2 = 7.348, C3 = 6.591 over a baseline mean of 2.
    assert (signal["c1"], signal["c2"], signal["c3"]) == (7.348, 7.348, 6.591)
    assert signal["methods"] == ["C1", "C2", "C3"]
    assert [(e.name, e.unit_code, e.week, e.cases, e.methods) for e in seen] == [
        ("health.outbreak_suspected", "22918", "2026-W21", 14, "C1,C2,C3")
    ]
    # Sending the same week again raises nothing new.
    again = _post(client, world.headers["operator"], _rows(counts=[14], first_week=21))
    assert again["signals"] == 0


def test_the_outbreak_event_is_registered_for_the_alerts_engine(client, world):
    events = {e for e in client.app.state.registry.events}
    assert "health.outbreak_suspected" in events


def test_a_ward_operator_reads_only_the_cases_and_signals_of_its_ward(client, world):
    _post(client, world.headers["operator"], _rows(unit="22918"))
    _post(client, world.headers["operator"], _rows(unit="24778", disease="hfmd"))
    for who, unit in (("ward_a", "22918"), ("ward_b", "24778")):
        cases = client.get("/api/health/cases", headers=world.headers[who]).json()["items"]
        assert {c["unit_code"] for c in cases} == {unit}
        signals = client.get("/api/health/signals", headers=world.headers[who]).json()["items"]
        assert {s["unit_code"] for s in signals} == {unit}
    both = client.get("/api/health/signals", headers=world.headers["leader"]).json()
    assert {s["unit_code"] for s in both["items"]} == {"22918", "24778"}


def test_a_leader_may_read_but_not_report_cases(client, world):
    response = client.post("/api/health/cases", json=_rows(), headers=world.headers["leader"])
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert client.get("/api/health/cases").status_code == 401


def test_kpi_counts_communes_with_a_recent_signal(client, world):
    from datetime import date, timedelta

    from cityops.modules.health.weeks import week_label

    monday = date.today() - timedelta(days=date.today().weekday() + 7)
    rows = [{"disease": "measles", "unit_code": "24778", "week": week_label(monday), "cases": 4}]
    assert _post(client, world.headers["operator"], rows)["signals"] == 1
    kpis = {
        k["key"]: k["value"]
        for k in client.get("/api/kpis", headers=world.headers["leader"]).json()
    }
    assert kpis["health.outbreak_communes"] == 1
    ward_a = client.get("/api/kpis", headers=world.headers["ward_a"]).json()
    assert {k["key"]: k["value"] for k in ward_a}["health.outbreak_communes"] == 0
