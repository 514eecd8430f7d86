"""Unit imports: GeoJSON and CSV files, the vietnam-provinces package, the Lâm Đồng demo."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from units_support import ADMIN, scoped

from cityops.core.errors import InvalidInput
from cityops.core.policy import Role
from cityops.core.units import service
from cityops.core.units.loaders import (
    DATA_DIR,
    import_bytes,
    import_file,
    import_vietnam_provinces,
    load_demo_units,
)
from cityops.core.units.models import Unit
from conftest import SHARED

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[108, 10], [109, 10], [109, 11], [108, 11], [108, 10]]],
}


def feature(code, parent="VN", level="province", geometry=None, **props):
    properties = {"code": code, "name": f"Đơn vị {code}", "level": level, "parent_code": parent}
    return {"type": "Feature", "properties": properties | props, "geometry": geometry}


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def count_units(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Unit))


def codes(db) -> dict[str, str | None]:
    """Map every unit code to its parent's code."""
    with db.session() as s:
        units = s.scalars(select(Unit)).all()
        by_id = {u.id: u.code for u in units}
        return {u.code: by_id.get(u.parent_id) for u in units}


def refused(db, data: bytes, name: str = "units.geojson", by=ADMIN, **kw) -> list[dict]:
    """Import and expect a refusal; return the listed problems."""
    with db.session() as s, pytest.raises(InvalidInput) as err:
        import_bytes(s, data, name, by, **kw)
    assert err.value.code in {"unit_import_invalid", "unit_file_unreadable"}
    return err.value.extra.get("errors", [])


def test_the_34_province_file_imports_with_its_polygons(database):
    with database.session() as s:
        result = import_file(s, DATA_DIR / "vn-provinces-34.geojson", ADMIN)
    assert (result.created, result.updated, result.total) == (34, 0, 34)
    with database.session() as s:
        lam_dong = service.get_by_code(s, ADMIN, "68")
        assert lam_dong.geometry["type"] == "MultiPolygon" and lam_dong.level == "province"
        assert 105 < lam_dong.min_lon < lam_dong.max_lon < 110


def test_legacy_binh_thuan_csv_gives_a_province_with_ten_districts(database):
    with database.session() as s:
        result = import_file(s, DATA_DIR / "binh-thuan-2023.csv", ADMIN)
    assert result.created == 11
    tree = codes(database)
    assert tree["60"] is None
    assert sorted(c for c, p in tree.items() if p == "60") == [str(c) for c in range(593, 603)]
    with database.session() as s:
        assert service.get_by_code(s, ADMIN, "593").name == "Thành phố Phan Thiết"


def test_communes_can_be_added_below_a_legacy_district(database):
    with database.session() as s:
        import_file(s, DATA_DIR / "binh-thuan-2023.csv", ADMIN)
    csv = (
        "code;name;level;parent_code;wkt\n"
        "22918;Phường Mũi Né;commune;593;POLYGON ((108 10, 109 10, 109 11, 108 10))\n"
    )
    with database.session() as s:
        import_bytes(s, csv.encode(), "communes.csv", ADMIN)
        ward = service.get_by_code(s, ADMIN, "22918")
    assert ward.depth == 2 and ward.geometry["type"] == "Polygon"


def test_import_with_bad_feature_imports_nothing_and_names_the_feature(database):
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    data = geojson(feature("60", geometry=SQUARE), feature("593", "60", "district", bow_tie))
    problems = refused(database, data)
    assert len(problems) == 1
    assert problems[0]["feature"] == 1 and problems[0]["unit_code"] == "593"
    assert problems[0]["field"] == "geometry" and "Self-intersection" in problems[0]["reason"]
    assert count_units(database) == 0


def test_every_problem_of_a_csv_is_listed_with_its_row(database):
    csv = (
        "code,name,level,parent_code\n"
        "60,Bình Thuận,province,VN\n"
        "593,,district,60\n"  # row 3: no name
        "594,Thị xã La Gi,District!,60\n"  # row 4: bad level
        "60,Bình Thuận again,province,\n"  # row 5: duplicate code
    )
    problems = refused(database, csv.encode(), "legacy.csv")
    assert [(p["row"], p["field"]) for p in problems] == [(3, "name"), (4, "level"), (5, "code")]
    assert "duplicate" in problems[2]["reason"] and "row 2" in problems[2]["reason"]
    assert count_units(database) == 0


def test_unknown_parent_code_in_a_file_is_refused(database):
    problems = refused(database, geojson(feature("60"), feature("593", "61", "district")))
    assert [(p["feature"], p["field"]) for p in problems] == [(1, "parent_code")]
    assert "'61'" in problems[0]["reason"]
    assert count_units(database) == 0


def test_a_cycle_inside_a_file_is_refused(database):
    problems = refused(database, geojson(feature("A", "B"), feature("B", "C"), feature("C", "A")))
    assert len(problems) == 1 and "cycle" in problems[0]["reason"]
    assert "A → B → C → A" in problems[0]["reason"]


def test_a_cycle_through_the_database_is_refused(database):
    with database.session() as s:
        import_bytes(
            s, geojson(feature("60"), feature("593", "60", "district")), "a.geojson", ADMIN
        )
    problems = refused(database, geojson(feature("60", "593")))
    assert "cycle" in problems[0]["reason"]
    assert codes(database) == {"60": None, "593": "60"}


def test_the_shared_lam_dong_file_is_refused_for_its_reused_code(database):
    problems = refused(database, (SHARED / "data/boundaries/lam-dong-2025.geojson").read_bytes())
    duplicate = [p for p in problems if "duplicate" in p["reason"]]
    assert duplicate and duplicate[0]["feature"] == 1 and "feature 0" in duplicate[0]["reason"]
    assert count_units(database) == 0


def test_unreadable_files_are_refused_with_a_reason(database):
    assert refused(database, b"{not json") == []
    assert refused(database, b'{"type": "Feature"}') == []
    assert refused(database, b"code,name\n1,x\n", "units.csv") == []
    with database.session() as s, pytest.raises(InvalidInput) as err:
        import_bytes(s, b"", "units.xlsx", ADMIN)
    assert err.value.code == "unit_file_unsupported"


def test_reimporting_updates_by_code_and_keeps_what_the_file_leaves_out(database):
    with database.session() as s:
        import_bytes(
            s, geojson(feature("60", geometry=SQUARE, name_en="Binh Thuan")), "a.geojson", ADMIN
        )
    with database.session() as s:
        result = import_bytes(s, geojson(feature("60", name="Tỉnh Bình Thuận")), "b.geojson", ADMIN)
    assert (result.created, result.updated) == (0, 1)
    with database.session() as s:
        unit = service.get_by_code(s, ADMIN, "60")
        assert unit.name == "Tỉnh Bình Thuận" and unit.name_en == "Binh Thuan"
        assert unit.geometry == SQUARE


def test_a_file_can_be_put_under_an_existing_unit(database):
    with database.session() as s:
        import_bytes(s, geojson(feature("68")), "a.geojson", ADMIN)
        import_bytes(s, geojson(feature("X1", "", "zone")), "b.geojson", ADMIN, parent_code="68")
    assert codes(database)["X1"] == "68"


def test_demo_units_are_lam_dong_its_124_communes_and_three_former_provinces(database):
    with database.session() as s:
        first = load_demo_units(s, ADMIN)
    with database.session() as s:
        again = load_demo_units(s, ADMIN)
    assert (first.created, again.created, again.unchanged) == (128, 0, 128)
    tree = codes(database)
    assert tree["68"] is None
    assert sum(1 for c, p in tree.items() if p == "68" and c[0].isdigit() and "-" not in c) == 124
    with database.session() as s:
        former = service.children(s, ADMIN, "68", include_former=True)
        former = {u.code: u for u in former if u.level == "former_province"}
        live = service.children(s, ADMIN, "68")
    assert sorted(former) == ["60-pre2025", "67-pre2025", "68-pre2025"]
    assert former["60-pre2025"].name == "Bình Thuận" and former["60-pre2025"].geometry
    assert all(u.level == "commune" and u.geometry is None for u in live) and len(live) == 124


def test_vietnam_provinces_loader_gives_34_provinces_and_their_wards(database):
    start = time.monotonic()
    with database.session() as s:
        result = import_vietnam_provinces(s, ADMIN)
    assert time.monotonic() - start < 10
    assert result.created == 34 + 3321
    tree = codes(database)
    provinces = [c for c, p in tree.items() if p is None]
    assert len(provinces) == 34 and "68" in provinces and "79" in provinces
    assert sum(1 for p in tree.values() if p == "68") == 124
    with database.session() as s:
        assert service.get_by_code(s, ADMIN, "79").name == "Hồ Chí Minh"
        assert service.get_by_code(s, ADMIN, "22918").name == "Phường Mũi Né"
        assert service.get_by_code(s, ADMIN, "01").geometry is not None


def test_vietnam_provinces_loader_can_load_one_province(database):
    with database.session() as s:
        result = import_vietnam_provinces(s, ADMIN, ["68"])
    assert result.created == 125


def test_a_district_administrator_imports_below_their_district_only(database):
    with database.session() as s:
        import_file(s, DATA_DIR / "binh-thuan-2023.csv", ADMIN)
    with database.session() as s:
        district = scoped(Role.admin, s.scalar(select(Unit).where(Unit.code == "593")))
    ok = geojson(feature("22918", "593", "commune"))
    with database.session() as s:
        assert import_bytes(s, ok, "ok.geojson", district).created == 1
    problems = refused(database, geojson(feature("X", "594", "commune"), feature("Y")), by=district)
    assert [(p["unit_code"], p["field"]) for p in problems] == [
        ("X", "parent_code"),
        ("Y", "parent_code"),
    ]
    assert "outside your scope" in problems[1]["reason"]
