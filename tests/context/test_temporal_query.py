"""POST /temporal/entityOperations/query: a Query body with a temporalQ, as NGSI-LD clients
send it when their query does not fit a URL."""

from __future__ import annotations

from ngsi import json_headers
from test_temporal import BASE, SENSOR, at, key, post, sensor  # noqa: F401

QUERY = "/ngsi-ld/v1/temporal/entityOperations/query"


def test_a_query_body_with_temporal_q_returns_the_history_between_two_times(client, key):  # noqa: F811
    post(client, key, sensor([1.0 + i / 10 for i in range(12)]))
    post(client, key, sensor([5.0, 6.0], entity_id=f"{SENSOR}-b"))
    body = {
        "type": "Query",
        "entities": [{"type": "WaterLevelSensor"}],
        "q": "waterLevel>1.2",
        "attrs": ["waterLevel"],
        "temporalQ": {"timerel": "between", "timeAt": at(30), "endTimeAt": at(50)},
    }
    response = client.post(QUERY, json=body, headers=json_headers(key), params={"count": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["NGSILD-Results-Count"] == "2"  # entities matching type and q
    by_id = {e["id"]: [i["value"] for i in e.get("waterLevel", [])] for e in response.json()}
    assert by_id == {SENSOR: [1.3, 1.4]}  # b's readings are before 00:30: b is left out


def test_last_n_in_temporal_q_and_bad_bodies(client, key):  # noqa: F811
    post(client, key, sensor([1.0, 2.0, 3.0]))
    body = {"type": "Query", "entities": [{"id": SENSOR}], "temporalQ": {"lastN": 1}}
    response = client.post(QUERY, json=body, headers=json_headers(key))
    assert response.status_code == 200, response.text
    assert [i["value"] for i in response.json()[0]["waterLevel"]] == [3.0]
    bad = client.post(QUERY, json={"type": "Entity"}, headers=json_headers(key))
    assert bad.status_code == 400 and bad.json()["type"].endswith("BadRequestData")
    wrong = {"type": "Query", "temporalQ": {"timerel": "sometime", "timeAt": at(0)}}
    assert client.post(QUERY, json=wrong, headers=json_headers(key)).status_code == 400
