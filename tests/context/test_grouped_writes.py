"""Single-entity NGSI-LD writes arriving together are committed in one transaction (group
commit, core.db.Database.write): each sees the ones before it and fails on its own."""

from __future__ import annotations

import asyncio

import httpx
from ngsi import air_quality, json_headers

BASE_URL = "/ngsi-ld/v1"


def test_concurrent_patches_of_one_entity_grouped_in_one_transaction_all_land(app, factory):
    """Writes arriving together are committed together; each sees the ones before it, so
    concurrent PATCHes of different attributes of one entity all land, and a PATCH of a
    missing entity in the same group gets its 404 without undoing the others."""
    headers = json_headers({"X-API-Key": factory.api_key()})
    station = air_quality(1, 12.0, no2={"type": "Property", "value": 20.0})
    station["o3"] = {"type": "Property", "value": 30.0}
    eid = station["id"]

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
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
