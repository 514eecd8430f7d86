"""The unit tree: scoped reads, audited writes, moves that carry their subtree, refusals."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from units_support import ADMIN, scoped

from cityops.core.audit import AuditEntry
from cityops.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from cityops.core.policy import ANONYMOUS, Role
from cityops.core.units import service, views
from cityops.core.units.models import Unit
from cityops.core.units.schemas import UnitCreate, UnitUpdate

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[108, 10], [109, 10], [109, 11], [108, 11], [108, 10]]],
}


def create(db, code, parent=None, level="commune", **extra) -> Unit:
    with db.session() as s:
        body = UnitCreate(
            code=code, name=f"Đơn vị {code}", level=level, parent_code=parent, **extra
        )
        return service.create_unit(s, ADMIN, body)


@pytest.fixture
def legacy(database):
    """Bình Thuận 2023: province 60 -> districts 593 (Phan Thiết), 594 (La Gi) -> two wards."""
    create(database, "60", level="province")
    create(database, "593", "60", level="district")
    create(database, "594", "60", level="district")
    create(database, "22918", "593")
    create(database, "22921", "593")
    return database


def unit(db, code) -> Unit:
    with db.session() as s:
        return s.scalar(select(Unit).where(Unit.code == code))


def test_a_new_unit_gets_its_path_and_depth_from_its_parent(legacy):
    province, district, ward = unit(legacy, "60"), unit(legacy, "593"), unit(legacy, "22918")
    assert province.path == f"/{province.id}/" and province.depth == 0
    assert district.path == f"/{province.id}/{district.id}/" and district.depth == 1
    assert ward.path == f"{district.path}{ward.id}/" and ward.depth == 2


def test_moving_a_district_moves_its_communes(legacy):
    create(legacy, "68", level="province")
    with legacy.session() as s:
        service.update_unit(s, ADMIN, "593", UnitUpdate(parent_code="68"))
    new_parent, district = unit(legacy, "68"), unit(legacy, "593")
    assert district.path == f"{new_parent.path}{district.id}/"
    for code in ("22918", "22921"):
        ward = unit(legacy, code)
        assert ward.path == f"{district.path}{ward.id}/" and ward.depth == 2
    with legacy.session() as s:
        assert [u.code for u in service.children(s, ADMIN, "60")] == ["594"]
        below = {u.code for u in service.subtree(s, ADMIN, "68")}
    assert below == {"68", "593", "22918", "22921"}


def test_moving_a_unit_to_the_root_makes_its_subtree_shallower(legacy):
    with legacy.session() as s:
        service.update_unit(s, ADMIN, "593", UnitUpdate(parent_code="VN"))
    district, ward = unit(legacy, "593"), unit(legacy, "22921")
    assert (district.path, district.depth) == (f"/{district.id}/", 0)
    assert (ward.path, ward.depth) == (f"/{district.id}/{ward.id}/", 1)


def test_cycle_is_refused(legacy):
    with legacy.session() as s, pytest.raises(Conflict) as err:
        service.update_unit(s, ADMIN, "60", UnitUpdate(parent_code="22918"))
    assert err.value.code == "unit_cycle"
    with legacy.session() as s, pytest.raises(Conflict):
        service.update_unit(s, ADMIN, "593", UnitUpdate(parent_code="593"))
    assert unit(legacy, "60").parent_id is None


def test_unknown_parent_code_is_refused(database):
    with database.session() as s, pytest.raises(InvalidInput) as err:
        service.create_unit(
            s, ADMIN, UnitCreate(code="1", name="X", level="commune", parent_code="999")
        )
    assert err.value.code == "unknown_parent_code" and "'999'" in err.value.detail


def test_duplicate_code_is_refused(legacy):
    with pytest.raises(Conflict) as err:
        create(legacy, "593", "60", level="district")
    assert err.value.code == "unit_code_taken"


def test_the_country_code_is_reserved(database):
    with pytest.raises(InvalidInput):
        create(database, "VN", level="country")


def test_unit_with_children_or_users_cannot_be_deleted(legacy, factory):
    with legacy.session() as s, pytest.raises(Conflict) as err:
        service.delete_unit(s, ADMIN, "593")
    assert err.value.code == "unit_has_children"
    factory.user(Role.unit_operator, unit(legacy, "22918"))
    with legacy.session() as s, pytest.raises(Conflict) as err:
        service.delete_unit(s, ADMIN, "22918")
    assert err.value.code == "unit_in_use" and err.value.extra["references"] == {"users": 1}
    with legacy.session() as s:
        service.delete_unit(s, ADMIN, "22921")
    assert unit(legacy, "22921") is None


def test_every_write_is_audited_with_before_and_after(legacy):
    with legacy.session() as s:
        service.update_unit(s, ADMIN, "593", UnitUpdate(name="TP Phan Thiết", geometry=SQUARE))
        service.delete_unit(s, ADMIN, "22921")
    with legacy.session() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [(e.action, e.entity_type) for e in entries]
    assert actions[:5] == [("unit.create", "unit")] * 5
    update, delete = entries[-2], entries[-1]
    assert update.action == "unit.update" and update.actor == ADMIN.actor
    assert update.before["name"] == "Đơn vị 593" and update.after["name"] == "TP Phan Thiết"
    assert update.before["geometry"] is None and update.after["geometry"]["type"] == "Polygon"
    assert delete.action == "unit.delete" and delete.before["code"] == "22921"


def test_geometry_sets_the_bounding_box_and_bad_geometry_is_refused(legacy):
    with legacy.session() as s:
        service.update_unit(s, ADMIN, "593", UnitUpdate(geometry=SQUARE))
    u = unit(legacy, "593")
    assert (u.min_lon, u.min_lat, u.max_lon, u.max_lat) == (108, 10, 109, 11)
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    swapped = {"type": "Polygon", "coordinates": [[[10, 108], [11, 108], [11, 109], [10, 108]]]}
    point = {"type": "Point", "coordinates": [108, 10]}
    for geometry, reason in (
        (bow_tie, "Self-intersection"),
        (swapped, "out of range"),
        (point, "Polygon or MultiPolygon"),
    ):
        with legacy.session() as s, pytest.raises(InvalidInput) as err:
            service.update_unit(s, ADMIN, "594", UnitUpdate(geometry=geometry))
        assert "'594'" in err.value.detail and reason in err.value.detail


def test_commune_operator_cannot_read_other_commune(legacy):
    me = scoped(Role.unit_operator, unit(legacy, "22918"))
    with legacy.session() as s:
        assert service.get_by_code(s, me, "22918").code == "22918"
        with pytest.raises(NotFound):
            service.get_by_code(s, me, "22921")
        with pytest.raises(NotFound):
            service.get_by_code(s, me, "60")
        units, total = service.list_units(s, me)
    assert [u.code for u in units] == ["22918"] and total == 1


def test_district_operator_sees_only_their_district_in_the_tree(legacy):
    me = scoped(Role.operator, unit(legacy, "593"))
    with legacy.session() as s:
        tops, total = views.tree(s, me)
    assert total == 3 and [t.code for t in tops] == ["593"]
    assert [c.code for c in tops[0].children] == ["22918", "22921"]


def test_only_administrators_change_units_and_only_in_their_scope(legacy):
    with legacy.session() as s:
        with pytest.raises(Forbidden):
            service.update_unit(
                s, scoped(Role.operator, unit(legacy, "60")), "593", UnitUpdate(name="X")
            )
        with pytest.raises(Unauthorized):
            service.get_by_code(s, ANONYMOUS, "60")
        district_admin = scoped(Role.admin, unit(legacy, "593"))
        with pytest.raises(NotFound):
            service.update_unit(s, district_admin, "594", UnitUpdate(name="X"))
        with pytest.raises(InvalidInput):  # may not move its unit under a unit it cannot see
            service.update_unit(s, district_admin, "22918", UnitUpdate(parent_code="594"))


def test_name_search_ignores_accents_and_case(legacy):
    with legacy.session() as s:
        service.update_unit(s, ADMIN, "593", UnitUpdate(name="Thành phố Phan Thiết"))
        service.update_unit(s, ADMIN, "594", UnitUpdate(name="Thị xã La Gi"))
        for q in ("phan thiet", "PHAN THIẾT", "thanh pho"):
            units, total = service.list_units(s, ADMIN, q=q)
            assert [u.code for u in units] == ["593"] and total == 1, q
        units, total = service.list_units(s, ADMIN, q="thi", limit=1)
    assert total == 2 and len(units) == 1


def test_former_units_leave_the_live_tree_but_stay_readable(legacy):
    with legacy.session() as s:
        service.update_unit(s, ADMIN, "594", UnitUpdate(valid_until="2025-06-30"))
        live, _ = service.list_units(s, ADMIN, level="district")
        everything, _ = service.list_units(s, ADMIN, level="district", include_former=True)
        assert service.get_by_code(s, ADMIN, "594").valid_until.isoformat() == "2025-06-30"
        _, then = service.list_units(s, ADMIN, level="district", at=date(2024, 1, 1))
    assert [u.code for u in live] == ["593"]
    assert [u.code for u in everything] == ["593", "594"] and then == 2


def test_ancestors_come_root_first(legacy):
    with legacy.session() as s:
        assert [u.code for u in service.ancestors(s, ADMIN, "22918")] == ["60", "593"]


def test_tree_depth_counts_from_the_starting_unit(legacy):
    district = scoped(Role.operator, unit(legacy, "593"))
    with legacy.session() as s:
        tops, total = views.tree(s, district, max_depth=0)
        assert [t.code for t in tops] == ["593"] and total == 1 and tops[0].children == []
        tops, total = views.tree(s, ADMIN, root_code="60", max_depth=1)
    assert total == 3 and [c.code for c in tops[0].children] == ["593", "594"]
