"""Helpers for NGSI-LD tests: headers, contexts and realistic entities of the demo province."""

from __future__ import annotations

from typing import Any

ENV_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


def link(url: str = ENV_CONTEXT) -> str:
    """A JSON-LD Link header value."""
    return f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def json_headers(
    auth: dict[str, str], context: str | None = ENV_CONTEXT, **extra: str
) -> dict[str, str]:
    """Headers for application/json with the @context in a Link header."""
    headers = {"Content-Type": "application/json", **auth, **extra}
    if context:
        headers["Link"] = link(context)
    return headers


def air_quality(
    n: int, pm25: float, lon: float = 108.10, lat: float = 10.93, **attrs: Any
) -> dict[str, Any]:
    """An AirQualityObserved station reading in normalized form."""
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:PT-{n:03d}",
        "type": "AirQualityObserved",
        "pm25": {
            "type": "Property",
            "value": pm25,
            "unitCode": "GQ",
            "observedAt": "2026-11-24T05:00:00Z",
        },
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        **attrs,
    }


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A square polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}
