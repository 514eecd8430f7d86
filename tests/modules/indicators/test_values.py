"""Values: revisions with history, audit of every write, scope by the unit tree."""

from __future__ import annotations

from sqlalchemy import select

from cityops.core.audit import AuditEntry

from .conftest import put


def test_revision_keeps_history_and_audit(client, world, database):
    assert put(client, world, "commune_a", "A1", "2026-10", 100).status_code == 200
    second = put(client, world, "commune_a", "A1", "2026-10", 120)
    assert second.status_code == 200, second.text
    assert (second.json()["revision"], second.json()["is_current"]) == (2, True)
    url = "/api/indicators/BUDGET_REVENUE/values"
    current = client.get(url, headers=world.headers["leader"]).json()
    assert [(v["value"], v["revision"]) for v in current["items"]] == [(120, 2)]
    history = client.get(f"{url}?history=true", headers=world.headers["leader"]).json()
    assert [(v["value"], v["is_current"]) for v in history["items"]] == [
        (100, False),
        (120, True),
    ]
    with database.session() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "indicators.value_put")
        ).all()
        assert len(entries) == 2
        assert entries[1].before["value"] == 100 and entries[1].after["value"] == 120
        assert entries[1].entity_id == "BUDGET_REVENUE/A1/2026-10"


def test_commune_operator_cannot_write_another_commune(client, world):
    response = put(client, world, "commune_a", "B1", "2026-10", 50)
    assert response.status_code == 403
    assert put(client, world, "commune_a", "68", "2026-10", 50).status_code == 403
    assert put(client, world, "leader", "A1", "2026-10", 50).status_code == 403


def test_commune_operator_reads_only_its_own_subtree(client, world):
    put(client, world, "operator", "A1", "2026-10", 10)
    put(client, world, "operator", "B1", "2026-10", 20)
    url = "/api/indicators/BUDGET_REVENUE/values"
    seen = client.get(url, headers=world.headers["commune_a"]).json()
    assert [v["unit_code"] for v in seen["items"]] == ["A1"]
    other = client.get(
        "/api/indicators/BUDGET_REVENUE/series?unit=B1", headers=world.headers["commune_a"]
    )
    assert other.status_code == 404


def test_the_period_must_match_the_indicator_frequency(client, world):
    for period in ("2026-Q3", "2026", "2026-13", "tháng 10"):
        response = put(client, world, "operator", "A1", period, 10)
        assert response.status_code == 422, period
    assert put(client, world, "operator", "ZZ", "2026-10", 10).status_code == 404
