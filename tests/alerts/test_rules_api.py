"""Rules over the API: refused with the error's position, versioned on edit, tried on live data."""

from __future__ import annotations

from alerts.support import FLOOD_RULE, World, flood, flood_rule


def test_condition_that_does_not_parse_is_refused_with_its_position(alerting: World) -> None:
    flood(alerting, "ca-ty", 1.0)
    body = {**FLOOD_RULE, "condition": "currentLevel >> alertLevel1"}
    r = alerting.client.post("/api/alerts/rules", json=body, headers=alerting.admin)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_rule"
    [error] = r.json()["errors"]
    assert (error["field"], error["code"], error["position"]) == ("condition", "syntax", 14)
    assert alerting.client.get("/api/alerts/rules", headers=alerting.admin).json()["total"] == 0


def test_q_filter_syntax_error_carries_the_hub_parser_position(alerting: World) -> None:
    flood(alerting, "ca-ty", 1.0)
    body = {**FLOOD_RULE, "q": "currentLevel>2;(status=="}
    r = alerting.client.post("/api/alerts/rules/validate", json=body, headers=alerting.admin)
    assert r.status_code == 200
    assert r.json()["valid"] is False
    [error] = r.json()["errors"]
    assert error["field"] == "q" and error["code"] == "syntax"
    assert error["position"] == len("currentLevel>2;(status==")


def test_attribute_never_seen_for_the_type_is_refused(alerting: World) -> None:
    flood(alerting, "ca-ty", 1.0)
    body = {**FLOOD_RULE, "condition": "currentLevel>alertLevelOne"}
    r = alerting.client.post("/api/alerts/rules", json=body, headers=alerting.admin)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["code"] == "unknown_attribute"
    assert "alertLevelOne" in error["message"]
    assert error["position"] == 0  # the term that names it starts the condition


def test_entity_type_the_hub_never_saw_is_refused(alerting: World) -> None:
    body = {**FLOOD_RULE, "entity_type": "FloodMonitorin"}
    r = alerting.client.post("/api/alerts/rules/validate", json=body, headers=alerting.admin)
    assert [e["code"] for e in r.json()["errors"]] == ["unknown_entity_type"]


def test_rule_missing_what_its_kind_needs_is_refused(alerting: World) -> None:
    body = {**FLOOD_RULE, "kind": "count_window", "event_name": "field_reports.report_created"}
    r = alerting.client.post("/api/alerts/rules", json=body, headers=alerting.admin)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"count", "radius_m", "window_seconds"}


def test_valid_rule_validates(alerting: World) -> None:
    flood(alerting, "ca-ty", 1.0)
    r = alerting.client.post("/api/alerts/rules/validate", json=FLOOD_RULE, headers=alerting.admin)
    assert r.json() == {"valid": True, "errors": []}


def test_editing_a_rule_makes_a_new_version_and_alerts_remember_theirs(alerting: World) -> None:
    rule = flood_rule(alerting, for_seconds=0)
    flood(alerting, "ca-ty", 2.4)
    url = f"/api/alerts/rules/{rule['id']}"
    r = alerting.client.patch(
        url, json={"severity": "critical", "title_en": "Flood at {entity}"}, headers=alerting.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    flood(alerting, "phu-hai", 2.4)
    alerts = {a["source_id"].rsplit(":", 1)[-1]: a for a in alerting.alerts()}
    assert (alerts["ca-ty"]["rule_version"], alerts["ca-ty"]["severity"]) == (1, "major")
    assert (alerts["phu-hai"]["rule_version"], alerts["phu-hai"]["severity"]) == (2, "critical")
    assert alerts["phu-hai"]["title_en"] == "Flood at phu-hai"
    versions = alerting.client.get(f"{url}/versions", headers=alerting.admin).json()
    assert [(v["version"], v["definition"]["severity"]) for v in versions] == [
        (1, "major"),
        (2, "critical"),
    ]


def test_edit_that_breaks_the_rule_is_refused_and_changes_nothing(alerting: World) -> None:
    rule = flood_rule(alerting)
    url = f"/api/alerts/rules/{rule['id']}"
    bad = {"params": {"entity_type": "FloodMonitoring", "condition": "currentLevel >"}}
    r = alerting.client.patch(url, json=bad, headers=alerting.admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["position"] == len("currentLevel >")
    stored = alerting.client.get(url, headers=alerting.admin).json()
    assert (stored["version"], stored["condition"]) == (1, "currentLevel>alertLevel1")


def test_disabled_rule_raises_nothing(alerting: World) -> None:
    rule = flood_rule(alerting, for_seconds=0)
    url = f"/api/alerts/rules/{rule['id']}"
    alerting.client.patch(url, json={"enabled": False}, headers=alerting.admin)
    flood(alerting, "ca-ty", 2.9)
    assert alerting.alerts() == []


def test_trying_a_rule_lists_the_stations_above_their_level_now(alerting: World) -> None:
    rule = flood_rule(alerting)
    flood(alerting, "ca-ty", 2.4)
    flood(alerting, "phu-hai", 1.2)
    r = alerting.client.post(f"/api/alerts/rules/{rule['id']}/test", headers=alerting.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["checked"] == 3  # seed, ca-ty, phu-hai
    assert [h["source_id"] for h in body["hits"]] == ["urn:ngsi-ld:FloodMonitoring:ca-ty"]
    assert body["hits"][0]["value"] == {"currentLevel": 2.4, "alertLevel1": 2.0}


def test_trying_a_rate_of_change_rule_lists_the_stations_rising_fast_now(alerting: World) -> None:
    for station in ("ca-ty", "phu-hai", "seed"):
        flood(alerting, station, 1.0)
    rule = alerting.rule(
        name="Nước lên nhanh",
        kind="rate_of_change",
        severity="major",
        entity_type="FloodMonitoring",
        attribute="currentLevel",
        delta=0.5,
        window_seconds=1800,
        title_vi="Nước lên nhanh tại {entity}",
        title_en="Fast rise at {entity}",
    )
    flood(alerting, "ca-ty", 1.3)
    flood(alerting, "ca-ty", 1.7)  # +0.7 m on the window's oldest reading
    flood(alerting, "phu-hai", 1.2)  # +0.2 m: too slow
    r = alerting.client.post(f"/api/alerts/rules/{rule['id']}/test", headers=alerting.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["checked"] == 3
    assert [h["source_id"] for h in body["hits"]] == ["urn:ngsi-ld:FloodMonitoring:ca-ty"]
    assert body["hits"][0]["value"] == {"currentLevel": 1.7, "change": 0.7}


def test_rule_changes_are_audited(alerting: World) -> None:
    rule = flood_rule(alerting)
    alerting.client.patch(
        f"/api/alerts/rules/{rule['id']}", json={"enabled": False}, headers=alerting.admin
    )
    r = alerting.client.get(
        "/api/audit", params={"entity_type": "alert_rule"}, headers=alerting.admin
    )
    assert r.status_code == 200, r.text
    actions = sorted(e["action"] for e in r.json()["items"])
    assert actions == ["alerts.rule_created", "alerts.rule_updated"]


def test_a_leader_may_read_rules_but_not_write_them(alerting: World, factory) -> None:  # noqa: ANN001
    from cityops.core.policy import Role

    flood(alerting, "ca-ty", 1.0)
    leader = factory.headers(factory.user(Role.leader, unit=alerting.province))
    r = alerting.client.post("/api/alerts/rules", json=FLOOD_RULE, headers=leader)
    assert r.status_code == 403
    assert alerting.client.get("/api/alerts/rules", headers=leader).status_code == 200


def test_a_machine_key_may_not_manage_rules(alerting: World) -> None:
    flood(alerting, "ca-ty", 1.0)
    machine = {"X-API-Key": alerting.key}
    r = alerting.client.post("/api/alerts/rules", json=FLOOD_RULE, headers=machine)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
