"""Tourism places and events in the hub, the public visitor guide, monthly figures and KPIs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cityops.modules.tourism.stats import DOMESTIC, INTERNATIONAL, OCCUPANCY

TODAY = date.today()
PLACES = (
    {
        "code": "DOI-CAT",
        "kind": "attraction",
        "category": "nature",
        "name": "Đồi cát Mũi Né",
        "description": "Đồi cát đỏ ven biển",
        "unit_code": "22918",
        "lat": 10.95,
        "lon": 108.308,
        "opening_hours": "05:00-18:00",
    },
    {
        "code": "KS-01",
        "kind": "accommodation",
        "category": "hotel",
        "name": "Khách sạn thử",
        "unit_code": "22918",
        "lat": 10.952,
        "lon": 108.23,
        "rooms": 120,
        "star_rating": 4,
    },
    {
        "code": "HO-XH",
        "kind": "attraction",
        "name": "Hồ Xuân Hương",
        "unit_code": "24778",
        "lat": 11.9416,
        "lon": 108.4419,
    },
)


def _event(code, start_in_days, days=2, unit="24778"):
    start = TODAY + timedelta(days=start_in_days)
    return {
        "code": code,
        "name": f"Sự kiện {code}",
        "unit_code": unit,
        "lat": 11.94,
        "lon": 108.44,
        "category": "festival",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=days - 1)).isoformat(),
    }


@pytest.fixture
def places(client, world):
    for body in PLACES:
        response = client.post("/api/tourism/places", json=body, headers=world.headers["operator"])
        assert response.status_code == 201, response.text
    for code, start in (("SAP-TOI", 10), ("DANG-DIEN-RA", -1), ("DA-QUA", -20)):
        response = client.post(
            "/api/tourism/events", json=_event(code, start), headers=world.headers["operator"]
        )
        assert response.status_code == 201, response.text


def test_visitors_see_attractions_and_upcoming_events_without_logging_in(client, world, places):
    response = client.get("/api/tourism/public/visitor")
    assert response.status_code == 200, response.text
    guide = response.json()
    attractions = guide["attractions"]["features"]
    assert sorted(f["properties"]["name"] for f in attractions) == [
        "Hồ Xuân Hương",
        "Đồi cát Mũi Né",
    ]
    doi_cat = next(f for f in attractions if f["id"].endswith("DOI-CAT"))
    assert doi_cat["geometry"] == {"type": "Point", "coordinates": [108.308, 10.95]}
    assert doi_cat["properties"]["openingHours"] == "05:00-18:00"
    # nothing internal: no ward codes, no provider, no capacity
    for feature in attractions + guide["events"]["features"]:
        assert set(feature["properties"]) <= {
            "name",
            "description",
            "category",
            "address",
            "openingHours",
            "url",
            "startDate",
            "endDate",
            "kind",
        }
    events = [f["id"].rsplit(":", 1)[-1] for f in guide["events"]["features"]]
    assert events == ["DANG-DIEN-RA", "SAP-TOI"]  # the past one is left out, soonest first
    assert "CC BY 4.0" in guide["attribution"]


def test_staff_see_every_kind_in_their_scope_with_the_smart_data_models_types(
    client, world, places
):
    everything = client.get("/api/tourism/places", headers=world.headers["leader"]).json()
    kinds = sorted((f["properties"]["kind"], f["id"]) for f in everything["features"])
    assert kinds == [
        ("accommodation", "urn:ngsi-ld:PointOfInterest:KS-01"),
        ("attraction", "urn:ngsi-ld:PointOfInterest:DOI-CAT"),
        ("attraction", "urn:ngsi-ld:PointOfInterest:HO-XH"),
        ("event", "urn:ngsi-ld:Event:DA-QUA"),
        ("event", "urn:ngsi-ld:Event:DANG-DIEN-RA"),
        ("event", "urn:ngsi-ld:Event:SAP-TOI"),
    ]
    hotel = next(f for f in everything["features"] if f["id"].endswith("KS-01"))
    assert (hotel["properties"]["capacity"], hotel["properties"]["starRating"]) == (120, 4)
    ward_a = client.get("/api/tourism/places", headers=world.headers["ward_a"]).json()
    assert {f["properties"]["wardId"] for f in ward_a["features"]} == {"22918"}
    only = client.get(
        "/api/tourism/places", params={"kind": "accommodation"}, headers=world.headers["leader"]
    ).json()
    assert [f["properties"]["name"] for f in only["features"]] == ["Khách sạn thử"]


def test_an_event_ending_before_it_starts_is_refused(client, world):
    body = _event("SAI", 5) | {"end_date": TODAY.isoformat()}
    response = client.post("/api/tourism/events", json=body, headers=world.headers["operator"])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert client.get("/api/tourism/public/visitor").json()["events"]["features"] == []


def test_a_ward_cannot_add_places_in_another_ward(client, world):
    response = client.post("/api/tourism/places", json=PLACES[2], headers=world.headers["ward_a"])
    assert response.status_code == 403
    assert client.get("/api/tourism/places").status_code == 401


def _value(client, world, code, period, value):
    response = client.put(
        f"/api/indicators/{code}/values",
        json={"unit_code": "68", "period": period, "value": value},
        headers=world.headers["operator"],
    )
    assert response.status_code == 200, response.text


def test_monthly_figures_come_from_the_indicator_engine_with_the_change_on_last_year(client, world):
    year = TODAY.year
    first = client.get("/api/tourism/stats", headers=world.headers["leader"])
    assert first.status_code == 200  # registers the indicators in the engine's catalogue
    _value(client, world, DOMESTIC, f"{year - 1}-01", 1_000_000)
    _value(client, world, INTERNATIONAL, f"{year - 1}-01", 50_000)
    _value(client, world, DOMESTIC, f"{year}-01", 1_100_000)
    _value(client, world, INTERNATIONAL, f"{year}-01", 76_000)
    _value(client, world, OCCUPANCY, f"{year}-01", 61.5)
    body = client.get("/api/tourism/stats", headers=world.headers["leader"]).json()
    january = body["months"][0]
    assert (body["year"], january["period"]) == (year, f"{year}-01")
    assert (january["total"], january["total_last_year"]) == (1_176_000, 1_050_000)
    assert january["change_percent"] == 12.0  # 1,176,000 / 1,050,000 = 1.12
    assert january["occupancy_rate"] == 61.5
    assert body["months"][1]["total"] is None
    response = client.get("/api/kpis", headers=world.headers["leader"])
    kpis = {k["key"]: k["value"] for k in response.json()}
    assert kpis["tourism.arrivals_change"] == 12.0
    assert kpis["tourism.occupancy"] == 61.5


def test_place_and_event_uploads_keep_the_good_rows_and_report_each_bad_one(client, world):
    places_csv = (
        "code,kind,category,name,unit_code,lat,lon,opening_hours\n"
        "SUOI-TIEN,attraction,nature,Suối Tiên,22918,10.946,108.27,06:00-18:00\n"
        "BAR-1,nightclub,,Quán bar,22918,10.946,108.27,\n"  # not a kind of place
        "HO-XH,attraction,,Hồ Xuân Hương,24778,11.9416,108.4419,\n"
    )
    response = client.post(
        "/api/tourism/places/import",
        files={"file": ("diem.csv", places_csv.encode(), "text/csv")},
        headers=world.headers["operator"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(3, "kind")]
    soon = (TODAY + timedelta(days=3)).isoformat()
    events_csv = (
        "code,name,unit_code,lat,lon,start_date,end_date\n"
        f"LE-HOI,Lễ hội biển,22918,10.946,108.28,{soon},{soon}\n"
        f"SAI-NGAY,Sự kiện sai,22918,10.946,108.28,{soon},2001-01-01\n"  # ends before it starts
        f"SAI-DINH-DANG,Sự kiện,22918,10.946,108.28,ngày mai,{soon}\n"  # not a date
    )
    response = client.post(
        "/api/tourism/events/import",
        files={"file": ("su-kien.csv", events_csv.encode(), "text/csv")},
        headers=world.headers["operator"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1
    assert [e["row"] for e in response.json()["errors"]] == [3, 4]
    assert response.json()["errors"][1]["column"] == "start_date"
    guide = client.get("/api/tourism/public/visitor").json()
    assert sorted(f["properties"]["name"] for f in guide["attractions"]["features"]) == [
        "Hồ Xuân Hương",
        "Suối Tiên",
    ]
    assert [f["properties"]["name"] for f in guide["events"]["features"]] == ["Lễ hội biển"]
