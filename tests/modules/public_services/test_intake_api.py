"""Sending dossiers by API: per-item errors, upserts, scope, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from cityops.core.audit import AuditEntry
from cityops.modules.public_services.models import Dossier, Procedure

from .conftest import dossier

URL = "/api/public-services/dossiers"


def recent(days: float) -> datetime:
    """A time `days` ago (the API checks times against the real clock)."""
    return datetime.now(UTC) - timedelta(days=days)


def post(client, headers, *items):
    """Send a batch; return the response."""
    return client.post(URL, json={"items": list(items)}, headers=headers)


def test_good_items_land_and_bad_ones_come_back_with_their_reasons(client, world, database):
    good = dossier("G1", recent(3), recent(-2))
    response = post(
        client,
        world.headers["operator"],
        good,
        dossier("G2", recent(2), recent(-3), agency="NO-SUCH"),
        dossier("G3", recent(-1), recent(-5)),
        dossier("G4", recent(2), recent(3)),
        dossier("G5", recent(2), recent(-3), channel="fax"),
        dossier("G6", recent(3), recent(-2), finished=recent(1), status="processing"),
        {"external_id": "G7"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"]) == (1, 0)
    errors = {e["row"]: (e["external_id"], e["column"]) for e in body["errors"]}
    assert errors == {
        2: ("G2", "agency_code"),
        3: ("G3", "received_at"),
        4: ("G4", "due_at"),
        5: ("G5", "channel"),
        6: ("G6", "finished_at"),
        7: ("G7", "procedure_code"),
    }
    assert "tương lai" in body["errors"][1]["message"]
    with database.session() as s:
        assert list(s.scalars(select(Dossier.external_id))) == ["G1"]


def test_sending_the_same_id_again_updates_and_never_duplicates(client, world, database):
    first = dossier("DUP-1", recent(3), recent(-2))
    assert post(client, world.headers["operator"], first).json()["created"] == 1
    done = first | {"status": "finished", "finished_at": recent(0.5).isoformat()}
    body = post(client, world.headers["operator"], done).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 0)
    assert post(client, world.headers["operator"], done).json()["unchanged"] == 1
    other_source = done | {"source": "motcua-v2"}
    assert post(client, world.headers["operator"], other_source).json()["created"] == 1
    with database.session() as s:
        assert s.scalar(select(func.count(Dossier.id))) == 2
        stored = s.scalar(select(Dossier).where(Dossier.source == "api"))
        assert stored.status == "finished" and stored.finished_at is not None


def test_a_commune_operator_may_send_only_their_communes_dossiers(client, world, database):
    response = post(
        client,
        world.headers["commune_a"],
        dossier("A-1", recent(2), recent(-2)),
        dossier("B-1", recent(2), recent(-2), unit="B1", agency="MC-B"),
    )
    body = response.json()
    assert body["created"] == 1
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "unit_code")]
    assert "phạm vi" in body["errors"][0]["message"]


def test_a_leader_may_read_but_not_send(client, world):
    response = post(client, world.headers["leader"], dossier("L-1", recent(2), recent(-2)))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_a_commune_operator_sees_only_their_communes_dossiers(client, world):
    post(
        client,
        world.headers["operator"],
        dossier("A-1", recent(2), recent(-2)),
        dossier("B-1", recent(2), recent(-2), unit="B1", agency="MC-B"),
    )
    seen_by_a = client.get(URL, headers=world.headers["commune_a"]).json()
    assert [d["external_id"] for d in seen_by_a["items"]] == ["A-1"]
    assert seen_by_a["items"][0]["procedure_name"] == "Đăng ký khai sinh"
    assert client.get(URL, headers=world.headers["operator"]).json()["total"] == 2
    year = str(recent(2).year)
    other = client.get(
        "/api/public-services/counters",
        params={"unit": "B1", "period": year},
        headers=world.headers["commune_a"],
    )
    assert other.status_code == 404
    own = client.get(
        "/api/public-services/counters", params={"period": year}, headers=world.headers["commune_a"]
    ).json()
    assert (own["unit_code"], own["to_process"]) == ("A1", 1)


def test_every_batch_and_new_procedure_is_audited(client, world, database):
    post(client, world.headers["operator"], dossier("AU-1", recent(2), recent(-2)))
    post(client, world.headers["operator"], dossier("AU-1", recent(2), recent(-4)))
    with database.session() as s:
        rows = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("public_services.%"))
                .order_by(AuditEntry.id)
            )
        )
        assert [r.action for r in rows] == [
            "public_services.procedure_create",
            "public_services.dossiers_upsert",
            "public_services.dossiers_upsert",
        ]
        assert rows[1].after["created"] == 1 and rows[2].after["updated"] == 1
        assert rows[2].after["dossiers"] == ["api/AU-1"]
        assert all(r.actor.startswith("user:") for r in rows)
        assert s.scalar(select(Procedure.name)) == "Đăng ký khai sinh"


def test_an_unknown_procedure_without_a_name_is_refused(client, world):
    item = dossier("P-1", recent(2), recent(-2), procedure_code="9.99", procedure_name=None)
    body = post(client, world.headers["operator"], item).json()
    assert body["created"] == 0
    assert body["errors"][0]["column"] == "procedure_code"


def test_a_batch_that_is_not_json_gets_a_structured_error(client, world):
    response = client.post(
        URL,
        content=b"{not json",
        headers=world.headers["operator"] | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "malformed_json"


def test_a_commune_cannot_take_over_another_communes_dossier_by_its_id(client, world, database):
    post(client, world.headers["operator"], dossier("SAME-ID", recent(2), recent(-2)))
    hijack = dossier("SAME-ID", recent(2), recent(-9), unit="B1", agency="MC-B")
    body = post(client, world.headers["commune_b"], hijack).json()
    assert (body["created"], body["updated"]) == (0, 0)
    assert [(e["row"], e["external_id"]) for e in body["errors"]] == [(1, "SAME-ID")]
    with database.session() as s:
        stored = s.scalar(select(Dossier))
        assert stored.unit_id == world.commune_a.id
