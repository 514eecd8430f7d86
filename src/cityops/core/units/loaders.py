"""Unit loaders: GeoJSON/CSV files, the vietnam-provinces package, and the Lâm Đồng demo."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cityops.core.errors import InvalidInput
from cityops.core.policy import Principal
from cityops.core.units.geometry import (
    BOUNDARY_ATTRIBUTION,
    CODES_ATTRIBUTION,
    GeometryError,
    geometry_from_wkt,
)
from cityops.core.units.importer import ImportResult, RawUnit, import_units

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "boundaries"
REFORM_DATE = date(2025, 7, 1)
# Former provinces get their own codes so they can sit beside the unit that took their code.
FORMER_SUFFIX = "-pre2025"
PROPERTIES = (
    "code",
    "name",
    "name_en",
    "level",
    "parent_code",
    "division_type",
    "valid_from",
    "valid_until",
    "source",
)
REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")
GEOMETRY_COLUMNS = ("geometry", "geojson", "wkt")
MAX_FILE_BYTES = 64 * 1024 * 1024


def _unreadable(name: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{name}: {reason}; nothing was imported", code="unit_file_unreadable")


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Keep known properties that carry a value; numbers as codes become strings."""
    out: dict[str, Any] = {}
    for key in PROPERTIES:
        value = props.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and key.endswith("code"):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        out[key] = value
    return out


def read_geojson(data: bytes, name: str) -> list[RawUnit]:
    """Read a GeoJSON FeatureCollection of units; features are named by 0-based index."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _unreadable(name, f"not UTF-8 JSON ({err})") from err
    features = doc.get("features") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(features, list)
    ):
        raise _unreadable(name, "not a GeoJSON FeatureCollection")
    raws = []
    for i, feature in enumerate(features):
        raw = RawUnit({"feature": i}, {})
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raw.errors.append((None, "not a GeoJSON Feature"))
        elif not isinstance(props, dict):
            raw.errors.append(("properties", "a feature needs properties (code, name, level, ...)"))
        else:
            raw.fields = _clean(props)
            if feature.get("geometry") is not None:
                raw.fields["geometry"] = feature["geometry"]
        raws.append(raw)
    return raws


def _csv_geometry(row: dict[str, str], raw: RawUnit) -> None:
    for column in GEOMETRY_COLUMNS:
        text = (row.get(column) or "").strip()
        if not text:
            continue
        try:
            raw.fields["geometry"] = (
                geometry_from_wkt(text) if column == "wkt" else json.loads(text)
            )
        except (GeometryError, json.JSONDecodeError) as err:
            raw.errors.append((column, f"unreadable geometry ({err})"))
        return


def read_csv(data: bytes, name: str) -> list[RawUnit]:
    """Read a CSV of units (code,name,level,parent_code,...); row 1 is the header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _unreadable(name, f"not UTF-8 text ({err})") from err
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise _unreadable(name, f"missing column(s) {', '.join(missing)} in the header row")
    reader.fieldnames = columns
    raws = []
    for i, row in enumerate(reader):
        raw = RawUnit({"row": i + 2}, _clean({k: v for k, v in row.items() if k is not None}))
        if None in row:
            raw.errors.append((None, "the row has more cells than the header"))
        _csv_geometry(row, raw)
        raws.append(raw)
    return raws


def read_units(data: bytes, name: str) -> list[RawUnit]:
    """Read a unit file, choosing the format by its extension (.geojson/.json or .csv)."""
    suffix = Path(name).suffix.lower()
    if suffix in {".geojson", ".json"}:
        return read_geojson(data, name)
    if suffix == ".csv":
        return read_csv(data, name)
    raise InvalidInput(
        f"{name}: unsupported file type {suffix or '(none)'!r}; use .geojson, .json or .csv",
        code="unit_file_unsupported",
    )


def import_bytes(
    session: Session,
    data: bytes,
    name: str,
    principal: Principal,
    *,
    parent_code: str | None = None,
) -> ImportResult:
    """Import units from file content (all or nothing); `parent_code` adopts the file's roots."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB", code="unit_file_too_large"
        )
    return import_units(
        session, read_units(data, name), principal, source=name, parent_code=parent_code
    )


def import_file(
    session: Session, path: str | Path, principal: Principal, *, parent_code: str | None = None
) -> ImportResult:
    """Import a GeoJSON or CSV unit file (all or nothing; upsert by code, parents first)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidInput(
            f"{path}: cannot read ({err.strerror})", code="unit_file_unreadable"
        ) from err
    return import_bytes(session, data, path.name, principal, parent_code=parent_code)


def _load_json(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _province_name(name: str) -> str:
    return name.removeprefix("Thành phố ").removeprefix("Tỉnh ")


def package_units(
    province_codes: Iterable[str | int] | None = None, *, with_geometry: bool = True
) -> list[RawUnit]:
    """List the 34 provinces and their communes/wards from the vietnam-provinces package."""
    from vietnam_provinces import Province, Ward

    wanted = None if province_codes is None else {int(c) for c in province_codes}
    source = f"PyPI vietnam-provinces {version('vietnam-provinces')}; {CODES_ATTRIBUTION}"[:300]
    shapes = {}
    if with_geometry:
        shapes = {
            f["properties"]["code"]: f["geometry"]
            for f in _load_json("vn-provinces-34.geojson")["features"]
        }
    raws: list[RawUnit] = []
    for p in Province.iter_all():
        if wanted is not None and int(p.code) not in wanted:
            continue
        code = f"{int(p.code):02d}"
        fields = {
            "code": code,
            "name": _province_name(p.name),
            "level": "province",
            "division_type": p.division_type.value,
            "valid_from": REFORM_DATE,
            "source": source,
        }
        if code in shapes:
            fields["geometry"] = shapes[code]
        raws.append(RawUnit({"province": code}, fields))
    for w in Ward.iter_all():
        if wanted is not None and int(w.province_code) not in wanted:
            continue
        code = f"{int(w.code):05d}"
        raws.append(
            RawUnit(
                {"ward": code},
                {
                    "code": code,
                    "name": w.name,
                    "level": "commune",
                    "division_type": w.division_type.value,
                    "parent_code": f"{int(w.province_code):02d}",
                    "valid_from": REFORM_DATE,
                    "source": source,
                },
            )
        )
    return raws


def import_vietnam_provinces(
    session: Session,
    principal: Principal,
    province_codes: Iterable[str | int] | None = None,
    *,
    with_geometry: bool = True,
) -> ImportResult:
    """Import the post-2025 provinces (with polygons) and their communes/wards from the package."""
    raws = package_units(province_codes, with_geometry=with_geometry)
    return import_units(session, raws, principal, source="vietnam-provinces")


def demo_units() -> list[RawUnit]:
    """List the demo tree: Lâm Đồng (68), its 124 communes and its three former provinces."""
    features = _load_json("lam-dong-2025.geojson")["features"]
    units = _load_json("lam-dong-units.json")
    polygons = f"lam-dong-2025.geojson; {BOUNDARY_ATTRIBUTION}"[:300]
    codes = f"lam-dong-units.json; {CODES_ATTRIBUTION}"[:300]
    raws: list[RawUnit] = []
    for i, f in enumerate(features):
        p = f["properties"]
        fields = {
            "name": p["name"],
            "level": p["level"],
            "division_type": "tỉnh",
            "geometry": f["geometry"],
            "source": polygons,
        }
        if p["level"] == "province":
            fields.update(code=p["code"], valid_from=p["valid_from"])
        else:  # a former province: its own code, below the province that absorbed it
            fields.update(
                code=p["code"] + FORMER_SUFFIX,
                parent_code=p["parent_code"],
                valid_until=p["valid_until"],
            )
        raws.append(RawUnit({"feature": i}, fields))
    for c in units["communes_2025"]:
        raws.append(
            RawUnit(
                {"commune": c["code"]},
                {
                    "code": c["code"],
                    "name": c["name"],
                    "level": c["level"],
                    "division_type": c["division_type"],
                    "parent_code": c["parent_code"],
                    "valid_from": REFORM_DATE,
                    "source": codes,
                },
            )
        )
    return raws


def load_demo_units(session: Session, principal: Principal) -> ImportResult:
    """Load (or refresh) the demo tree rooted at Lâm Đồng (68); safe to run again."""
    return import_units(session, demo_units(), principal, source="CityOps demo: Lâm Đồng 2025")
