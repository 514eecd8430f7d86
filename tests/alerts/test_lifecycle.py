"""The alert lifecycle: actions, illegal transitions, escalation, scope, audit and bus events."""

from __future__ import annotations

from typing import Any

import pytest

from alerts.support import EAST_POINT, World, flood, flood_rule
from cityops.core.policy import Role


def raise_one(world: World, station: str = "ca-ty", at: tuple[float, float] | None = None) -> dict:
    """Raise a flood alert at a station and return it."""
    if not world.client.get("/api/alerts/rules", headers=world.admin).json()["total"]:
        flood_rule(world, for_seconds=0)
    flood(world, station, 2.6, **({"at": at} if at else {}))
    return next(a for a in world.alerts() if a["source_id"].endswith(station))


def test_operator_walks_an_alert_from_open_to_closed(alerting: World) -> None:
    alert = raise_one(alerting)
    steps = [("acknowledge", "acknowledged"), ("start", "in_progress"), ("resolve", "resolved")]
    for action, status in steps:
        r = alerting.act(alert["id"], action, note=f"bước {action}")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    r = alerting.act(alert["id"], "close")
    body = r.json()
    assert body["status"] == "closed"
    assert body["acknowledged_at"] and body["resolved_at"] and body["closed_at"]
    kinds = [(e["kind"], e["from_status"], e["to_status"]) for e in body["timeline"]]
    assert kinds == [
        ("raised", None, "open"),
        ("acknowledge", "open", "acknowledged"),
        ("start", "acknowledged", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"),
    ]
    assert body["timeline"][1]["note"] == "bước acknowledge"


@pytest.mark.parametrize(
    ("path", "action"),
    [
        (["acknowledge"], "acknowledge"),
        (["resolve"], "start"),
        ([], "reopen"),
        (["clear"], "resolve"),
    ],
)
def test_illegal_transition_is_409_naming_the_current_state(
    alerting: World, path: list[str], action: str
) -> None:
    alert = raise_one(alerting)
    for step in path:
        assert alerting.act(alert["id"], step).status_code == 200
    expected = {"acknowledge": "acknowledged", "resolve": "resolved", "clear": "cleared"}.get(
        path[-1] if path else "", "open"
    )
    r = alerting.act(alert["id"], action)
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition"
    assert r.json()["status"] == expected
    assert expected in r.json()["detail"]


def test_a_resolved_alert_frees_its_source_and_a_new_episode_raises_anew(alerting: World) -> None:
    alert = raise_one(alerting)
    alerting.act(alert["id"], "resolve")
    flood(alerting, "ca-ty", 1.0)
    flood(alerting, "ca-ty", 2.7)
    assert sorted(a["status"] for a in alerting.alerts()) == ["open", "resolved"]
    r = alerting.act(alert["id"], "reopen")
    assert r.status_code == 409
    assert r.json()["code"] == "already_active"


def test_assign_comment_and_escalate_keep_the_status(alerting: World, factory) -> None:  # noqa: ANN001
    agency = factory.agency(alerting.province, "PCTT", "Ban Chỉ huy PCTT")
    alert = raise_one(alerting)
    r = alerting.act(alert["id"], "assign", agency_id=agency.id, note="Giao Ban PCTT")
    assert (r.json()["status"], r.json()["assignee_agency_id"]) == ("open", agency.id)
    r = alerting.act(alert["id"], "comment", note="Đã gọi điện cho phường")
    assert r.json()["timeline"][-1]["note"] == "Đã gọi điện cho phường"
    r = alerting.act(alert["id"], "escalate")
    assert (r.json()["status"], r.json()["escalation_level"]) == ("open", 1)
    r = alerting.act(alert["id"], "assign")
    assert (r.status_code, r.json()["code"]) == (422, "assignee_required")


def test_lifecycle_changes_are_audited_and_published(alerting: World) -> None:
    seen: list[Any] = []
    alerting.engine.bus.subscribe("alerts.*", seen.append)
    alert = raise_one(alerting)
    alerting.act(alert["id"], "acknowledge")
    alerting.act(alert["id"], "escalate")
    alerting.settle()
    names = [(e.name, getattr(e, "action", None)) for e in seen]
    assert names == [
        ("alerts.alert_raised", None),
        ("alerts.alert_updated", "acknowledge"),
        ("alerts.alert_escalated", None),
    ]
    assert seen[1].from_status == "open" and seen[1].to_status == "acknowledged"
    r = alerting.client.get("/api/audit", params={"entity_type": "alert"}, headers=alerting.admin)
    actions = sorted(e["action"] for e in r.json()["items"])
    assert actions == ["alerts.acknowledge", "alerts.alert_raised", "alerts.escalate"]


def test_unacknowledged_critical_alert_escalates_after_the_set_minutes(alerting: World) -> None:
    seen: list[Any] = []
    alerting.engine.bus.subscribe("alerts.alert_escalated", seen.append)
    flood_rule(alerting, for_seconds=0, severity="critical")
    flood(alerting, "ca-ty", 2.6)
    flood(alerting, "phu-hai", 2.6)
    [acked] = [a for a in alerting.alerts() if a["source_id"].endswith("phu-hai")]
    alerting.act(acked["id"], "acknowledge")
    alerting.clock.advance(minutes=14)
    alerting.sweep()
    assert {a["escalation_level"] for a in alerting.alerts()} == {0}
    alerting.clock.advance(minutes=1)
    alerting.sweep()
    levels = {a["source_id"].rsplit(":", 1)[-1]: a["escalation_level"] for a in alerting.alerts()}
    assert levels == {"ca-ty": 1, "phu-hai": 0}
    alerting.sweep()  # not again until another period has passed
    alerting.clock.advance(minutes=15)
    alerting.sweep()
    assert [e.escalation_level for e in seen] == [1, 2]


def test_operator_raises_a_manual_alert(alerting: World) -> None:
    body = {
        "severity": "critical",
        "title_vi": "Sạt lở đèo Đại Ninh",
        "title_en": "Landslide on Dai Ninh pass",
        "unit_id": alerting.west.id,
        "lat": 10.95,
        "lon": 108.05,
        "public": True,
    }
    r = alerting.client.post("/api/alerts", json=body, headers=alerting.admin)
    assert r.status_code == 201, r.text
    alert = r.json()
    assert (alert["source_kind"], alert["status"], alert["public"]) == ("manual", "open", True)
    assert [e["kind"] for e in alert["timeline"]] == ["raised"]
    bad = {**body, "severity": "apocalyptic"}
    r = alerting.client.post("/api/alerts", json=bad, headers=alerting.admin)
    assert r.status_code == 422


def test_commune_operator_sees_and_acts_only_in_their_commune(alerting: World, factory) -> None:  # noqa: ANN001
    west_alert = raise_one(alerting, "west-station")
    east_alert = raise_one(alerting, "east-station", at=EAST_POINT)
    west_op = factory.headers(factory.user(Role.unit_operator, unit=alerting.west))
    assert [a["id"] for a in alerting.alerts(headers=west_op)] == [west_alert["id"]]
    url = f"/api/alerts/{east_alert['id']}"
    assert alerting.client.get(url, headers=west_op).status_code == 404
    assert alerting.act(east_alert["id"], "acknowledge", headers=west_op).status_code == 404
    assert alerting.act(west_alert["id"], "acknowledge", headers=west_op).status_code == 200
    summary = alerting.client.get("/api/alerts/summary", headers=west_op).json()
    assert summary["total"] == 1


def test_agency_staff_see_only_alerts_assigned_to_their_agency(alerting: World, factory) -> None:  # noqa: ANN001
    agency = factory.agency(alerting.province, "PCTT", "Ban Chỉ huy PCTT")
    staff = factory.headers(factory.user(Role.agency_staff, alerting.province, agency))
    alert = raise_one(alerting)
    raise_one(alerting, "phu-hai")
    assert alerting.alerts(headers=staff) == []
    alerting.act(alert["id"], "assign", agency_id=agency.id)
    assert [a["id"] for a in alerting.alerts(headers=staff)] == [alert["id"]]
    assert alerting.act(alert["id"], "acknowledge", headers=staff).status_code == 200
    assert alerting.act(alert["id"], "escalate", headers=staff).status_code == 403


def test_leader_reads_alerts_but_cannot_act(alerting: World, factory) -> None:  # noqa: ANN001
    leader = factory.headers(factory.user(Role.leader, unit=alerting.province))
    alert = raise_one(alerting)
    assert len(alerting.alerts(headers=leader)) == 1
    assert alerting.act(alert["id"], "acknowledge", headers=leader).status_code == 403


def test_list_filters_by_status_severity_and_unit(alerting: World) -> None:
    a = raise_one(alerting, "west-station")
    raise_one(alerting, "east-station", at=EAST_POINT)
    alerting.act(a["id"], "acknowledge")
    assert len(alerting.alerts(status="acknowledged")) == 1
    assert len(alerting.alerts(status=["open", "acknowledged"])) == 2
    assert len(alerting.alerts(severity="critical")) == 0
    assert [x["id"] for x in alerting.alerts(unit_id=alerting.west.id)] == [a["id"]]
    r = alerting.client.get("/api/alerts", params={"limit": 1}, headers=alerting.admin).json()
    assert (len(r["items"]), r["total"]) == (1, 2)


def test_kpis_and_choices_describe_the_alerts(alerting: World) -> None:
    alert = raise_one(alerting)
    alerting.act(alert["id"], "acknowledge")
    raise_one(alerting, "phu-hai")
    kpis = {
        k["key"]: k["value"]
        for k in alerting.client.get("/api/kpis", headers=alerting.admin).json()
    }
    assert kpis["alerts.open"] == 2
    assert kpis["alerts.open_critical"] == 0
    assert kpis["alerts.mtta"] is not None and kpis["alerts.mtta"] >= 0
    choices = alerting.client.get("/api/alerts/choices", headers=alerting.admin).json()
    critical = choices["severities"][0]
    assert (critical["value"], critical["label_vi"], critical["label_en"]) == (
        "critical",
        "Khẩn cấp",
        "Critical",
    )
    assert critical["colour"].startswith("#")
    assert [s["value"] for s in choices["statuses"]][:3] == ["open", "acknowledged", "in_progress"]
