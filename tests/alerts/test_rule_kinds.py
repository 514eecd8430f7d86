"""Absence, count-window, event, rate-of-change and geofence rules raise what they promise."""

from __future__ import annotations

from typing import Any

from alerts.support import EAST_POINT, WEST_POINT, World, box, flood

DEVICE = "urn:ngsi-ld:Device:tram-ca-ty"


def device(world: World, state: str = "online") -> None:
    """Post a heartbeat of the Cà Ty station's device."""
    world.read(DEVICE, "Device", WEST_POINT, deviceState=state, batteryLevel=0.9)


def test_device_silent_for_fifteen_minutes_is_reported_offline(alerting: World) -> None:
    device(alerting)
    alerting.rule(
        name="Thiết bị mất kết nối",
        kind="absence",
        severity="minor",
        entity_type="Device",
        silence_seconds=900,
        auto_clear=True,
        title_vi="Thiết bị {entity} mất tín hiệu",
        title_en="Device {entity} is offline",
    )
    alerting.clock.advance(minutes=14)
    alerting.sweep()
    assert alerting.alerts() == []
    alerting.clock.advance(minutes=2)  # (the reading landed a moment after the clock started)
    alerting.sweep()
    [alert] = alerting.alerts()
    assert alert["title_en"] == "Device tram-ca-ty is offline"
    assert alert["source_id"] == DEVICE
    alerting.sweep()  # still silent: still one alert
    assert len(alerting.alerts()) == 1
    device(alerting)  # back online: the alert clears itself
    assert [a["status"] for a in alerting.alerts()] == ["cleared"]


def flooding_category(world: World) -> None:
    """Create the flooding category of field reports."""
    body = {"code": "NGAP", "name": "Ngập úng", "name_en": "Flooding", "sla_hours": 4}
    r = world.client.post("/api/field-reports/categories", json=body, headers=world.admin)
    assert r.status_code == 201, r.text


def report(world: World, lat: float, lon: float, code: str = "NGAP") -> None:
    """Submit a citizen report at a point."""
    body = {
        "category_code": code,
        "description": "Nước ngập tới đầu gối trên đường",
        "lat": lat,
        "lon": lon,
        "reporter_name": "Nguyễn Thị Dân",
        "reporter_phone": "0912345678",
    }
    r = world.client.post("/api/field-reports/public/reports", json=body)
    assert r.status_code == 201, r.text
    world.settle()


CLUSTER_RULE: dict[str, Any] = {
    "name": "Nhiều phản ánh ngập",
    "kind": "count_window",
    "severity": "major",
    "event_name": "field_reports.report_created",
    "filter": {"category_code": "NGAP"},
    "count": 5,
    "radius_m": 300,
    "window_seconds": 3600,
    "title_vi": "{count} phản ánh ngập trong bán kính 300 m",
    "title_en": "{count} flooding reports within 300 m",
}


def test_five_flooding_reports_within_300_m_make_one_cluster_alert(alerting: World) -> None:
    flooding_category(alerting)
    alerting.rule(**CLUSTER_RULE)
    lat, lon = WEST_POINT
    for i in range(4):
        report(alerting, lat + 0.0005 * i, lon)  # about 55 m apart
    report(alerting, lat, lon + 0.01)  # 1 km away: not part of the cluster
    assert alerting.alerts() == []
    report(alerting, lat + 0.001, lon + 0.001)
    [alert] = alerting.alerts()
    assert alert["title_en"] == "5 flooding reports within 300 m"
    assert alert["value"]["count"] == 5
    assert abs(alert["lat"] - lat) < 0.002 and abs(alert["lon"] - lon) < 0.002
    report(alerting, lat + 0.0002, lon)  # one more nearby: the same alert, re-triggered
    [alert] = alerting.alerts()
    assert alert["trigger_count"] == 2
    assert alert["value"]["count"] == 6


def test_reports_spread_over_more_than_the_window_do_not_cluster(alerting: World) -> None:
    flooding_category(alerting)
    alerting.rule(**CLUSTER_RULE)
    lat, lon = WEST_POINT
    for _ in range(4):
        report(alerting, lat, lon)
    alerting.clock.advance(minutes=61)
    report(alerting, lat, lon)
    assert alerting.alerts() == []


def test_event_rule_raises_per_source_and_filters_fields(alerting: World) -> None:
    flooding_category(alerting)
    alerting.rule(
        name="Phản ánh ngập",
        kind="event",
        severity="info",
        event_name="field_reports.report_created",
        filter={"category_code": ["NGAP"]},
        title_vi="Phản ánh ngập {tracking_code}",
        title_en="Flooding report {tracking_code}",
    )
    report(alerting, *WEST_POINT)
    report(alerting, *EAST_POINT)
    alerts = alerting.alerts()
    assert len(alerts) == 2
    assert {a["unit_id"] for a in alerts} == {alerting.west.id, alerting.east.id}
    assert all(a["title_en"].startswith("Flooding report ") for a in alerts)
    assert len({a["source_id"] for a in alerts}) == 2


def test_rate_of_change_fires_on_a_fast_rise(alerting: World) -> None:
    flood(alerting, "ca-ty", 1.0)
    alerting.rule(
        name="Nước lên nhanh",
        kind="rate_of_change",
        severity="major",
        entity_type="FloodMonitoring",
        attribute="currentLevel",
        delta=0.5,
        window_seconds=1800,
        title_vi="Nước lên nhanh tại {entity}",
        title_en="Fast rise at {entity} (+{change} m)",
    )
    flood(alerting, "ca-ty", 1.2)
    alerting.clock.advance(minutes=40)  # a slow rise: the window forgets the old reading
    flood(alerting, "ca-ty", 1.6)
    assert alerting.alerts() == []
    alerting.clock.advance(minutes=10)
    flood(alerting, "ca-ty", 2.2)
    [alert] = alerting.alerts()
    assert alert["title_en"] == "Fast rise at ca-ty (+0.6 m)"


def test_geofence_fires_when_a_vehicle_enters_the_zone(alerting: World) -> None:
    truck = "urn:ngsi-ld:Vehicle:xe-cuu-ho-1"
    alerting.read(truck, "Vehicle", EAST_POINT, speed=30)
    alerting.rule(
        name="Xe vào vùng ngập",
        kind="geofence",
        severity="warning",
        entity_type="Vehicle",
        transition="enter",
        fence=box(108.0, 108.1),
        auto_clear=True,
        title_vi="{entity} vào vùng ngập",
        title_en="{entity} entered the flood zone",
    )
    alerting.read(truck, "Vehicle", EAST_POINT, speed=20)
    assert alerting.alerts() == []
    alerting.read(truck, "Vehicle", WEST_POINT, speed=10)
    [alert] = alerting.alerts()
    assert alert["title_en"] == "xe-cuu-ho-1 entered the flood zone"
    alerting.read(truck, "Vehicle", EAST_POINT, speed=40)
    assert [a["status"] for a in alerting.alerts()] == ["cleared"]


def test_trying_an_event_rule_on_a_sample_event_says_whether_it_would_fire(
    alerting: World,
) -> None:
    flooding_category(alerting)
    rule = alerting.rule(
        name="Phản ánh ngập ở phường tây",
        kind="event",
        severity="info",
        event_name="field_reports.report_created",
        filter={"category_code": ["NGAP"]},
        unit_id=alerting.west.id,
        title_vi="Phản ánh ngập {tracking_code}",
        title_en="Flooding report {tracking_code}",
    )
    url = f"/api/alerts/rules/{rule['id']}/test"

    def trial(**event: Any) -> dict[str, Any]:
        r = alerting.client.post(url, json={"event": event}, headers=alerting.admin)
        assert r.status_code == 200, r.text
        return r.json()

    sample = {"report_id": 7, "tracking_code": "PA-7", "category_code": "NGAP"}
    hit = trial(**sample, unit_id=alerting.west.id)
    assert hit["checked"] == 1
    assert [(h["source_id"], h["unit_id"]) for h in hit["hits"]] == [("report:7", alerting.west.id)]
    assert trial(**sample, unit_id=alerting.east.id)["hits"] == []  # outside the rule's unit
    assert trial(**{**sample, "category_code": "RAC"}, unit_id=alerting.west.id)["hits"] == []
    r = alerting.client.post(url, headers=alerting.admin)
    assert r.status_code == 422 and r.json()["code"] == "event_required"
    assert alerting.alerts() == []  # trying raises nothing
