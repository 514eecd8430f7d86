"""Repeated NGSI-LD queries reuse their built SQL statement, never its results: the data they
read is live, and the caller's scope and @context still decide what is matched."""

from __future__ import annotations

from ngsi import CORE, air_quality, json_headers, link, square

from cityops.context import query as query_module

BASE = "/ngsi-ld/v1"


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(e["id"] for e in response.json())


def test_a_repeated_query_sees_every_change_made_between_its_runs(client, factory):
    headers = json_headers({"X-API-Key": factory.api_key()})
    stations = [air_quality(n, pm25) for n, pm25 in ((1, 12.0), (2, 80.0), (3, 95.0))]
    assert (
        client.post(f"{BASE}/entityOperations/create", json=stations, headers=headers).status_code
        == 201
    )
    url = f"{BASE}/entities?type=AirQualityObserved&q=pm25>55"
    first = _ids(client.get(url, headers=headers))
    assert first == [
        "urn:ngsi-ld:AirQualityObserved:PT-002",
        "urn:ngsi-ld:AirQualityObserved:PT-003",
    ]
    assert any(key[8] is not None for key in query_module._statements)  # built once, kept

    patched = client.patch(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-001/attrs/pm25",
        json={"value": 130.0},
        headers=headers,
    )
    assert patched.status_code == 204
    client.delete(f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:PT-003", headers=headers)
    assert _ids(client.get(url, headers=headers)) == [
        "urn:ngsi-ld:AirQualityObserved:PT-001",
        "urn:ngsi-ld:AirQualityObserved:PT-002",
    ]
    counted = client.get(url + "&count=true", headers=headers)
    assert counted.headers["NGSILD-Results-Count"] == "2"


def test_the_same_query_from_two_scopes_and_two_contexts_is_answered_for_each(client, factory):
    province = factory.unit("68", "Lâm Đồng", level="province", geometry=square(107.0, 10.5, 2.0))
    muine = factory.unit(
        "22918", "Phường Mũi Né", parent=province, geometry=square(108.2, 10.9, 0.2)
    )
    province_headers = json_headers({"X-API-Key": factory.api_key("integrator", province)})
    stations = [air_quality(1, 60, lon=108.3, lat=11.0), air_quality(2, 70, lon=108.1, lat=11.0)]
    created = client.post(
        f"{BASE}/entityOperations/create", json=stations, headers=province_headers
    )
    assert created.status_code == 201
    url = f"{BASE}/entities?type=AirQualityObserved&q=pm25>55"
    commune_headers = json_headers({"X-API-Key": factory.api_key("integrator", muine)})
    for _ in range(2):  # the second round runs the kept statements
        assert _ids(client.get(url, headers=province_headers)) == [
            "urn:ngsi-ld:AirQualityObserved:PT-001",
            "urn:ngsi-ld:AirQualityObserved:PT-002",
        ]
        assert _ids(client.get(url, headers=commune_headers)) == [
            "urn:ngsi-ld:AirQualityObserved:PT-001"
        ]
        # with the core context only, pm25 is another IRI (@vocab): no entity has it
        core_only = {**province_headers, "Link": link(CORE)}
        assert (
            _ids(
                client.get(
                    url.replace(
                        "type=AirQualityObserved",
                        "type=https://smartdatamodels.org/dataModel.Environment/AirQualityObserved",
                    ),
                    headers=core_only,
                )
            )
            == []
        )


def test_queries_of_one_shape_share_a_statement_and_each_gets_its_own_answer(client, factory):
    headers = json_headers({"X-API-Key": factory.api_key()})
    stations = [
        air_quality(n, pm25, stationName={"type": "Property", "value": name})
        for n, pm25, name in ((1, 12.0, "Mũi Né"), (2, 80.0, "Phú Thủy"), (3, 95.0, "Mũi Né"))
    ]
    assert (
        client.post(f"{BASE}/entityOperations/create", json=stations, headers=headers).status_code
        == 201
    )
    query_module._statements.clear()

    def ids(q: str) -> list[str]:
        got = _ids(
            client.get(
                f"{BASE}/entities", params={"type": "AirQualityObserved", "q": q}, headers=headers
            )
        )
        return [i.rsplit("-", 1)[1] for i in got]

    assert ids("pm25>55") == ["002", "003"]
    assert ids("pm25>90") == ["003"]
    assert ids("pm25>100") == []
    assert len(query_module._statements) == 1  # one shape, three values (on both databases)
    assert ids('stationName=="Mũi Né"') == ["001", "003"]
    assert ids('stationName=="Phú Thủy"') == ["002"]
    assert ids('pm25>10;stationName=="Mũi Né"') == ["001", "003"]
    assert ids('pm25>50;stationName=="Mũi Né"') == ["003"]
    assert ids("pm25==70..90") == ["002"]
    assert ids("pm25==10..13") == ["001"]
    assert ids("pm25==12,95") == ["001", "003"]
    assert ids("pm25==80,95") == ["002", "003"]
    assert len(query_module._statements) == 5  # >, ==, >;==, range, list
    # other forms are kept by their values, and answered as before
    assert ids("pm25!=80") == ["001", "003"]
    assert ids("pm25!=12") == ["002", "003"]
    assert ids("pm25<20|pm25>90") == ["001", "003"]
    counted = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "q": "pm25>50", "count": "true"},
        headers=headers,
    )
    assert counted.headers["NGSILD-Results-Count"] == "2"


def test_the_same_query_with_and_without_sys_attrs_renders_each_its_own_way(client, factory):
    headers = json_headers({"X-API-Key": factory.api_key()})
    created = client.post(f"{BASE}/entities", json=air_quality(5, 70.0), headers=headers)
    assert created.status_code == 201
    url = f"{BASE}/entities?type=AirQualityObserved&q=pm25>55"
    for _ in range(2):  # the second round reuses both kept statements
        plain = client.get(url, headers=headers).json()
        assert [e["id"] for e in plain] == ["urn:ngsi-ld:AirQualityObserved:PT-005"]
        assert "createdAt" not in plain[0] and "modifiedAt" not in plain[0]["pm25"]
        full = client.get(url + "&options=sysAttrs", headers=headers).json()
        assert full[0]["createdAt"].endswith("Z") and full[0]["modifiedAt"].endswith("Z")
        assert full[0]["pm25"]["modifiedAt"].endswith("Z")
        keyed = client.get(url + "&options=keyValues,sysAttrs", headers=headers).json()
        assert keyed[0]["pm25"] == 70.0
