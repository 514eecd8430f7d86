"""Single-entity NGSI-LD writes arriving together are committed in one transaction (group
commit, core.db.Database.write): each sees the ones before it and fails on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from ngsi import air_quality, json_headers

BASE_URL = "/ngsi-ld/v1"


@asynccontextmanager
async def _client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the app in this event loop (requests sent together can group)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


def test_concurrent_patches_of_one_entity_grouped_in_one_transaction_all_land(app, factory):
    """Writes arriving together are committed together; each sees the ones before it, so
    concurrent PATCHes of different attributes of one entity all land, and a PATCH of a
    missing entity in the same group gets its 404 without undoing the others."""
    headers = json_headers({"X-API-Key": factory.api_key()})
    station = air_quality(1, 12.0, no2={"type": "Property", "value": 20.0})
    station["o3"] = {"type": "Property", "value": 30.0}
    eid = station["id"]

    async def scenario() -> list[int]:
        async with _client(app) as client:
            created = await client.post(f"{BASE_URL}/entities", json=station, headers=headers)
            assert created.status_code == 201, created.text
            patches = [
                client.patch(
                    f"{BASE_URL}/entities/{eid}/attrs/{attr}", json={"value": v}, headers=headers
                )
                for attr, v in (("pm25", 55.5), ("no2", 41.0), ("o3", 77.0))
            ]
            missing = client.patch(
                f"{BASE_URL}/entities/{eid}-x/attrs/pm25", json={"value": 1}, headers=headers
            )
            answers = await asyncio.gather(*patches, missing)
            got = (await client.get(f"{BASE_URL}/entities/{eid}", headers=headers)).json()
            assert (got["pm25"]["value"], got["no2"]["value"], got["o3"]["value"]) == (
                55.5,
                41.0,
                77.0,
            )
            return [a.status_code for a in answers]

    assert asyncio.run(scenario()) == [204, 204, 204, 404]


def test_a_group_mixing_attribute_deletes_and_patches_of_one_entity_keeps_every_change(
    app, factory
):
    """PATCH/append read the entity outside the ORM session and DELETE of an attribute
    changes it through the ORM; grouped together on one entity, every change lands, the
    value index follows them and each patched value is in the entity's history.

    Each attribute is written once: requests sent together have no order between them (on
    PostgreSQL they run side by side), so two writes of one attribute have no defined winner.
    """
    headers = json_headers({"X-API-Key": factory.api_key()})
    station = air_quality(2, 12.0, no2={"type": "Property", "value": 20.0})
    station["o3"] = {"type": "Property", "value": 30.0}
    station["co"] = {"type": "Property", "value": 0.4}
    eid = station["id"]
    url = f"{BASE_URL}/entities/{eid}"

    def reading(value: float, hour: int) -> dict:
        return {"value": value, "observedAt": f"2026-11-24T{hour:02d}:00:00Z"}

    async def scenario() -> tuple[list[int], dict, list[str], list[str], dict]:
        async with _client(app) as client:
            created = await client.post(f"{BASE_URL}/entities", json=station, headers=headers)
            assert created.status_code == 201, created.text
            answers = await asyncio.gather(
                client.patch(f"{url}/attrs/pm25", json=reading(55.5, 1), headers=headers),
                client.delete(f"{url}/attrs/no2", headers=headers),
                client.patch(f"{url}/attrs/o3", json={"value": 77.0}, headers=headers),
                client.post(
                    f"{url}/attrs",
                    json={"so2": {"type": "Property", "value": 3.0}},
                    headers=headers,
                ),
                client.patch(f"{url}/attrs/co", json=reading(0.9, 2), headers=headers),
            )
            got = (await client.get(url, headers=headers)).json()
            found = {}
            for q in ("o3==77", "no2==20", "so2==3"):
                page = await client.get(
                    f"{BASE_URL}/entities",
                    params={"type": "AirQualityObserved", "q": q},
                    headers=headers,
                )
                found[q] = [e["id"] for e in page.json()]
            history = await client.get(
                f"{BASE_URL}/temporal/entities/{eid}",
                params={"attrs": "pm25,co", "options": "temporalValues"},
                headers=headers,
            )
            assert history.status_code == 200, history.text
            values = {
                attr: [v for v, _ in history.json()[attr]["values"]] for attr in ("pm25", "co")
            }
            return (
                [a.status_code for a in answers],
                got,
                found["o3==77"],
                found["so2==3"],
                {
                    "no2": found["no2==20"],
                    "history": values,
                },
            )

    statuses, got, o3, so2, rest = asyncio.run(scenario())  # (each reading has its time)
    assert statuses == [204, 204, 204, 204, 204]
    assert got["pm25"]["value"] == 55.5 and got["o3"]["value"] == 77.0
    assert got["co"]["value"] == 0.9 and got["so2"]["value"] == 3.0 and "no2" not in got
    assert o3 == [eid] and so2 == [eid] and rest["no2"] == []
    assert 55.5 in rest["history"]["pm25"] and 0.9 in rest["history"]["co"]


def test_patches_and_batches_of_the_same_entities_at_once_all_land_without_deadlocks(
    app, factory, database
):
    """Integrators PATCHing stations while a gateway upserts batches of the same stations
    (one batch in the reverse order): every write is answered with success, each station
    ends with one of the values written to it, and on PostgreSQL no transaction deadlocked
    (grouped single writes and batches take their row locks in one order)."""
    headers = json_headers({"X-API-Key": factory.api_key()})
    created_order = [(n * 7) % 30 + 1 for n in range(30)]  # so that pk order is not id order
    stations = [air_quality(n, 10.0) for n in created_order]
    ids = sorted(s["id"] for s in stations)
    order = [ids[i] for i in (7, 3, 29, 0, 15, 22, 9, 1, 28, 12, 5, 18, 25, 2, 11)]

    def batch(values: dict[str, float]) -> list[dict]:
        return [
            {"id": eid, "type": "AirQualityObserved", "pm25": {"type": "Property", "value": v}}
            for eid, v in values.items()
        ]

    def deadlocks() -> int:
        if database.dialect == "sqlite":
            return 0
        with database.engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                ).scalar()
            )

    async def scenario() -> tuple[list[int], dict[str, float]]:
        async with _client(app) as client:
            created = await client.post(
                f"{BASE_URL}/entityOperations/create", json=stations, headers=headers
            )
            assert created.status_code == 201, created.text
            upsert = f"{BASE_URL}/entityOperations/upsert?options=update"
            forward = batch({eid: 20.0 for eid in ids})
            backward = batch({eid: 30.0 for eid in reversed(ids)})
            answers = await asyncio.gather(
                client.post(upsert, json=forward, headers=headers),
                *(
                    client.patch(
                        f"{BASE_URL}/entities/{eid}/attrs/pm25",
                        json={"value": 40.0},
                        headers=headers,
                    )
                    for eid in order
                ),
                client.post(upsert, json=backward, headers=headers),
            )
            final = {}
            for eid in ids:
                got = await client.get(f"{BASE_URL}/entities/{eid}", headers=headers)
                final[eid] = got.json()["pm25"]["value"]
            return [a.status_code for a in answers], final

    before = deadlocks()
    statuses, final = asyncio.run(scenario())
    assert statuses == [204] * (len(order) + 2)
    assert all(final[eid] in (20.0, 30.0, 40.0) for eid in ids)
    assert {final[eid] for eid in ids if eid not in order} <= {20.0, 30.0}
    assert deadlocks() == before
