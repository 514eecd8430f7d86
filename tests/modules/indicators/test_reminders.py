"""A late figure reminds the people who owe it: the commune's operators (and the responsible
agency's staff) see it in their notifications; others in the province do not."""

from __future__ import annotations

from datetime import date

from cityops.modules.indicators.events import take
from cityops.modules.indicators.jobs import check_late

from .conftest import put


def _feed(client, world, who: str) -> list[dict]:
    response = client.get("/api/notifications", headers=world.headers[who])
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


def test_the_late_commune_operator_gets_a_reminder_and_the_others_do_not(client, world, database):
    for unit in ("A1", "B1"):
        target = {"unit_code": unit, "year": 2026, "value": 1200.0}
        response = client.put(
            "/api/indicators/BUDGET_REVENUE/targets", json=target, headers=world.headers["admin"]
        )
        assert response.status_code == 200, response.text
    put(client, world, "commune_a", "A1", "2026-10", 100)  # A reported, B did not
    with database.session() as s:
        assert check_late(s, date(2026, 11, 10)) == 1
        events = take(s)
    for event in events:
        client.portal.call(client.app.state.bus.publish, event)
    client.portal.call(client.app.state.bus.drain)
    late = _feed(client, world, "commune_b")
    assert len(late) == 1
    assert late[0]["topic"] == "indicators.report_late"
    assert "2026-10" in late[0]["subject_vi"] and "B1" in late[0]["subject_vi"]
    assert _feed(client, world, "commune_a") == []
