"""An outbreak signal reaches the alerts engine, which matches events by name."""

from __future__ import annotations

from .test_cases import _post, _rows


def test_an_alert_rule_on_outbreak_signals_raises_an_alert_in_the_ward(client, world):
    rule = {
        "name": "Nghi có dịch bệnh truyền nhiễm",
        "kind": "event",
        "severity": "major",
        "event_name": "health.outbreak_suspected",
        "title_vi": "Nghi có dịch {disease_vi} tại {unit_name}, tuần {week}: {cases} ca",
        "title_en": "Suspected {disease_en} outbreak in {unit_name}, week {week}: {cases} cases",
    }
    response = client.post("/api/alerts/rules", json=rule, headers=world.headers["admin"])
    assert response.status_code == 201, response.text
    _post(client, world.headers["operator"], _rows())
    client.portal.call(client.app.state.bus.drain)
    client.portal.call(client.app.state.alert_engine.flush)
    alerts = client.get("/api/alerts", headers=world.headers["ward_a"]).json()["items"]
    assert [a["title_vi"] for a in alerts] == [
        "Nghi có dịch Sốt xuất huyết Dengue tại Phường Mũi Né, tuần 2026-W21: 14 ca"
    ]
    assert alerts[0]["unit_id"] == world.ward_a.id
    ward_b = client.get("/api/alerts", headers=world.headers["ward_b"]).json()["items"]
    assert ward_b == []
