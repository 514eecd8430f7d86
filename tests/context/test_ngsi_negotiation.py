"""Content negotiation of the NGSI-LD API: the representation a client's Accept header prefers,
q-values included (RFC 9110 12.5.1), as browsers, Grafana and NGSI-LD libraries send them."""

from __future__ import annotations

import pytest
from ngsi import air_quality, json_headers, link

BASE = "/ngsi-ld/v1"
PT1 = "urn:ngsi-ld:AirQualityObserved:PT-001"


@pytest.fixture
def key(client, factory) -> dict[str, str]:
    key = {"X-API-Key": factory.api_key("integrator")}
    response = client.post(f"{BASE}/entities", json=air_quality(1, 35.5), headers=json_headers(key))
    assert response.status_code == 201, response.text
    return key


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/json;q=0.9, application/ld+json;q=0.5", "application/json"),
        ("application/ld+json, application/json;q=0.5", "application/ld+json"),
        ("application/geo+json;q=0.2, application/json", "application/json"),
        ("application/geo+json, application/json;q=0.8", "application/geo+json"),
        ("application/ld+json;q=0, */*", "application/json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
        ("application/*", "application/json"),
        ("application/json, application/ld+json", "application/ld+json"),  # equal q: JSON-LD
        ("", "application/json"),
    ],
)
def test_the_representation_the_client_prefers(client, key, accept, media):
    headers = {**key, "Link": link(), "Accept": accept}
    response = client.get(f"{BASE}/entities/{PT1}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    body = response.json()
    if media == "application/ld+json":
        assert "@context" in body
    elif media == "application/geo+json":
        assert body["type"] == "Feature"
    else:
        assert "@context" not in body and body["id"] == PT1


@pytest.mark.parametrize("accept", ["application/ld+json;q=0", "text/html", "image/png, text/*"])
def test_nothing_acceptable_is_not_acceptable(client, key, accept):
    response = client.get(f"{BASE}/entities/{PT1}", headers={**key, "Accept": accept})
    assert response.status_code == 406
    assert response.json()["type"].endswith("NotAcceptable")


def test_lists_without_a_geojson_form_answer_json_or_refuse(client, key):
    """Types, subscriptions and query batches have no GeoJSON form: a client taking GeoJSON
    first but JSON too gets JSON; one taking GeoJSON only is refused, before any work."""
    for method, path in [
        ("GET", "/types"),
        ("GET", "/subscriptions"),
        ("POST", "/entityOperations/query"),
    ]:
        body = {"type": "Query", "entities": [{"type": "AirQualityObserved"}]}
        for accept, status in [
            ("application/geo+json, application/json;q=0.5", 200),
            ("application/geo+json", 406),
        ]:
            headers = {**key, "Link": link(), "Accept": accept}
            if method == "POST":
                response = client.post(f"{BASE}{path}", json=body, headers=headers)
            else:
                response = client.get(f"{BASE}{path}", headers=headers)
            assert response.status_code == status, (path, accept, response.text)
            if status == 200:
                assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("lang", "tag"),
    [
        ("en", "en"),
        ("fr", "fr-CH"),  # a range finds a more specific tag
        ("vi-VN", "vi"),  # and a more specific range its language
        ("de,en;q=0.5", "en"),
        ("en;q=0.4,vi", "vi"),  # by weight, not by position
        ("*", "en"),  # any: the first tag in order, on both databases
        ("ja", "en"),  # nothing matches, no @none: the same
    ],
)
def test_lang_picks_one_string_and_says_which(client, key, lang, tag):
    names = {"vi": "Cầu Sông Cái", "en": "Cai Bridge", "fr-CH": "Pont de la Cai"}
    body = {"name": {"type": "LanguageProperty", "languageMap": names}}
    created = client.post(f"{BASE}/entities/{PT1}/attrs", json=body, headers=json_headers(key))
    assert created.status_code == 204, created.text
    headers = {**key, "Link": link()}
    got = client.get(f"{BASE}/entities/{PT1}", params={"lang": lang}, headers=headers).json()
    assert got["name"] == {"type": "Property", "value": names[tag], "lang": tag}
    simple = client.get(
        f"{BASE}/entities/{PT1}", params={"lang": lang, "options": "keyValues"}, headers=headers
    )
    assert simple.json()["name"] == names[tag]
