"""Point -> unit lookup: the deepest unit with a polygon, its chain, former units, freshness."""

from __future__ import annotations

import math
import threading
from datetime import date

import pytest
from sqlalchemy import select, update
from units_support import ADMIN, scoped

from cityops.core.errors import InvalidInput
from cityops.core.policy import Role
from cityops.core.units import service
from cityops.core.units.loaders import load_demo_units
from cityops.core.units.locate import UnitLocator, locate, locator_for
from cityops.core.units.models import Unit
from cityops.core.units.schemas import UnitCreate

PHAN_THIET = (10.93, 108.10)
DA_LAT = (11.94, 108.44)
GIA_NGHIA = (12.00, 107.69)
SOUTH_CHINA_SEA = (10.0, 111.0)
SQUARE = {"type": "Polygon", "coordinates": [[[111, 9], [112, 9], [112, 11], [111, 11], [111, 9]]]}


@pytest.fixture
def demo(database):
    with database.session() as s:
        load_demo_units(s, ADMIN)
    return database


def get(db, code) -> Unit:
    with db.session() as s:
        return s.scalar(select(Unit).where(Unit.code == code))


def test_point_in_phan_thiet_is_in_binh_thuan_and_lam_dong(demo):
    found = locate(demo, *PHAN_THIET)
    assert found.unit.code == "68" and found.unit.name == "Lâm Đồng"
    assert [u.code for u in found.chain] == ["68"]
    assert [(u.code, u.name, u.level) for u in found.former] == [
        ("60-pre2025", "Bình Thuận", "former_province")
    ]
    assert found.former[0].valid_until == date(2025, 6, 30)


@pytest.mark.parametrize(
    "point,former", [(DA_LAT, "68-pre2025"), (GIA_NGHIA, "67-pre2025"), (PHAN_THIET, "60-pre2025")]
)
def test_each_part_of_lam_dong_reports_its_former_province(demo, point, former):
    assert [u.code for u in locate(demo, *point).former] == [former]


def test_on_a_date_before_the_reform_the_former_province_is_the_unit(demo):
    found = locate(demo, *PHAN_THIET, at=date(2024, 1, 1))
    assert found.unit.code == "60-pre2025"
    assert [u.code for u in found.chain] == ["68", "60-pre2025"]
    assert [u.code for u in found.former] == ["68"]  # not yet valid on that day


def test_point_in_the_sea_is_in_no_unit(demo):
    found = locate(demo, *SOUTH_CHINA_SEA)
    assert found.unit is None and found.chain == () and found.former == ()


@pytest.mark.parametrize(
    "lat,lon", [(91, 108), (-90.5, 0), (10, 180.1), (math.nan, 108), (10, math.inf), ("x", 1)]
)
def test_a_point_out_of_range_is_refused(demo, lat, lon):
    with pytest.raises(InvalidInput) as err:
        locate(demo, lat, lon)
    assert err.value.code == "invalid_point"


def test_a_new_polygon_is_found_right_after_it_is_written(demo):
    assert locate(demo, *SOUTH_CHINA_SEA).unit is None
    body = UnitCreate(code="Z1", name="Vùng thử", level="zone", parent_code="68", geometry=SQUARE)
    with demo.session() as s:
        service.create_unit(s, ADMIN, body)
    found = locate(demo, *SOUTH_CHINA_SEA)
    assert found.unit.code == "Z1" and [u.code for u in found.chain] == ["68", "Z1"]


def test_changes_made_by_another_process_are_seen_once_the_copy_is_old(demo):
    locator = UnitLocator(demo.engine, max_age=3600)
    assert locator.locate(*SOUTH_CHINA_SEA).unit is None
    with demo.engine.begin() as conn:  # plain SQL: no session events, as another process
        conn.execute(update(Unit.__table__).where(Unit.code == "22918").values(geometry=SQUARE))
    assert locator.locate(*SOUTH_CHINA_SEA).unit is None  # still trusting its copy
    locator.max_age = 0
    assert locator.locate(*SOUTH_CHINA_SEA).unit.code == "22918"


def test_lookup_only_reports_units_in_the_callers_scope(demo):
    commune = scoped(Role.unit_operator, get(demo, "22918"))
    province = scoped(Role.operator, get(demo, "68"))
    assert locate(demo, *PHAN_THIET, commune).unit is None
    assert locate(demo, *PHAN_THIET, commune).former == ()
    assert locate(demo, *PHAN_THIET, province).unit.code == "68"


def test_one_locator_serves_every_app_on_the_same_database(demo, database):
    with database.session() as s:
        assert locator_for(s) is locator_for(demo) is locator_for(demo.engine)


def test_concurrent_lookups_agree(demo):
    locator = locator_for(demo)
    results: list[str | None] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(200):
                if i % 50 == 0:
                    locator.invalidate()
                found = locator.locate(*PHAN_THIET)
                results.append(found.former[0].code if found.former else None)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 1600 and set(results) == {"60-pre2025"}
