"""The socio-economic sector on the indicator engine: overview by group, trends, KPIs, demo."""

from __future__ import annotations

from functools import lru_cache

import pytest
from sqlalchemy import select

from cityops.core import demo
from cityops.core.auth.models import User
from cityops.core.auth.passwords import hash_password
from cityops.core.policy import Role, system_principal
from cityops.core.units.models import Unit
from cityops.modules.indicators import MANIFEST as INDICATORS
from cityops.modules.socioeconomic import MANIFEST
from cityops.modules.socioeconomic.seed import seed_demo

SYSTEM = system_principal("test")


@lru_cache
def _hash() -> str:
    return hash_password("Mật-khẩu-thử-2026")


@pytest.fixture
def seeded(database, client, factory):
    """The demo province with the engine's and this sector's demo indicators; user headers."""
    with database.session() as s:
        demo.seed(s, SYSTEM, {"indicators": INDICATORS, "socioeconomic": MANIFEST})
    with database.session() as s:
        province = s.scalar(select(Unit).where(Unit.code == "68"))
        commune = s.scalar(select(Unit).where(Unit.code == "22918"))
        users = {}
        for name, role, unit in (
            ("lead", Role.leader, province),
            ("ward", Role.unit_operator, commune),
        ):
            user = User(
                username=f"se-{name}",
                full_name=name,
                password_hash=_hash(),
                role=role.value,
                unit_id=unit.id,
            )
            s.add(user)
            users[name] = user
    return {name: factory.headers(user) for name, user in users.items()}


def test_the_overview_groups_indicators_as_the_report_does(client, seeded):
    response = client.get(
        "/api/socioeconomic/overview",
        params={"period": "2026-10", "unit": "68"},
        headers=seeded["lead"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    groups = [g["group"] for g in body["groups"]]
    assert groups == [
        "Kinh tế",
        "Công nghiệp",
        "Tài chính",
        "Thương mại",
        "Giá cả",
        "Doanh nghiệp",
        "Lao động",
        "Du lịch",
        "Xã hội",
    ]
    by_code = {i["indicator"]: i for g in body["groups"] for i in g["items"]}
    assert "DOSSIERS_TOTAL" not in by_code  # public services, not this report
    assert by_code["IIP"]["status"] == "green"  # 110.2 against 109
    assert by_code["CPI"]["status"] == "red"  # 4.6 against a ceiling of 4
    assert by_code["POVERTY_RATE"]["status"] == "no_value"
    prices = next(g for g in body["groups"] if g["group"] == "Giá cả")
    assert prices["group_en"] == "Prices" and prices["counts"] == {"red": 1}
    assert body["judged"] >= 10
    assert body["on_track_share"] == round(100 * body["on_track"] / body["judged"], 1)


def test_a_trend_shows_the_series_and_refuses_other_sectors(client, seeded):
    trend = client.get(
        "/api/socioeconomic/trend/NEW_ENTERPRISES",
        params={"unit": "68", "from": "2026-01", "to": "2026-03"},
        headers=seeded["lead"],
    ).json()
    assert [p["value"] for p in trend["points"]] == [150.0, 120.0, 210.0]
    other = client.get("/api/socioeconomic/trend/DOSSIERS_TOTAL", headers=seeded["lead"])
    assert other.status_code == 404
    assert other.json()["code"] == "unknown_indicator"


def test_a_ward_operator_cannot_read_the_provinces_overview(client, seeded):
    response = client.get(
        "/api/socioeconomic/overview", params={"unit": "68"}, headers=seeded["ward"]
    )
    assert response.status_code == 404


def test_published_figures_are_listed_with_their_source(client, seeded):
    rows = client.get("/api/socioeconomic/published", headers=seeded["lead"]).json()
    found = {(r["province"], r["indicator"], r["year"]): r["value"] for r in rows}
    assert found[("Bình Định", "GRDP_GROWTH", 2024)] == 7.76
    assert found[("Bình Thuận", "DOSSIERS_TOTAL", 2024)] == 94_665
    assert all("issue 7" in r["source"] for r in rows)


def test_kpis_and_widget_are_registered(client, seeded):
    kpis = {k["key"]: k for k in client.get("/api/kpis", headers=seeded["lead"]).json()}
    share = kpis["socioeconomic.on_track_share"]
    assert share["unit"] == "%" and 0 < share["value"] < 100
    assert kpis["socioeconomic.off_track"]["value"] >= 1
    widgets = client.get("/api/widgets", headers=seeded["lead"]).json()
    assert "/api/socioeconomic/overview" in {w["data_url"] for w in widgets}


def test_the_demo_values_are_labelled_and_seeded_once(client, seeded, database):
    values = client.get(
        "/api/indicators/IIP/values", params={"unit": "68"}, headers=seeded["lead"]
    ).json()
    assert values["total"] == 10
    assert all("minh họa" in v["source"] for v in values["items"])
    with database.session() as s:
        assert seed_demo(s) == 0
