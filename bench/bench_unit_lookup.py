"""Benchmark point -> unit lookup (UnitLocator) against a naive scan; print JSON.

Loads province polygons (default: the shipped 34; --file for e.g. the 63 pre-2025 ones in
../shared/data/boundaries) into a throwaway SQLite database through the normal importer, plus
synthetic commune-sized cells (the provinces cut by a 0.1 degree grid, about 4,300 polygons,
standing in for the commune polygons an operator loads; --grid 0 leaves them out). Then times
UnitLocator.locate over random points on the land those polygons cover and, in the same run, a
naive baseline that tests every unprepared polygon in turn, so the ratio holds on a noisy machine.

    python bench/bench_unit_lookup.py [--points 20000] [--baseline-points 500] [--file F] [--grid D]

Exits 1 when the locator does fewer than the target lookups per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from cityops.core.db import Database
from cityops.core.policy import Principal, Role
from cityops.core.schema import import_all_models, migrate
from cityops.core.units.geometry import to_shape
from cityops.core.units.importer import RawUnit, import_units
from cityops.core.units.loaders import DATA_DIR, import_file
from cityops.core.units.locate import UnitLocator

TARGET = 5000
VIETNAM_BBOX = (102.1, 8.4, 109.5, 23.4)  # min_lon, min_lat, max_lon, max_lat (mainland)
SHARED_63 = (
    Path(__file__).resolve().parents[2] / "shared/data/boundaries/vn-provinces-63-pre2025.geojson"
)
BENCH_ADMIN = Principal(kind="user", id=0, name="bench", role=Role.admin)


def grid_cells(features: list[dict[str, Any]], step: float) -> list[RawUnit]:
    """Cut each province into step x step degree cells: synthetic commune-sized polygons."""
    raws: list[RawUnit] = []
    for f in features:
        province = to_shape(f["geometry"])
        x0, y0, x1, y1 = province.bounds
        xs = np.arange(np.floor(x0 / step) * step, x1, step)
        ys = np.arange(np.floor(y0 / step) * step, y1, step)
        boxes = [shapely.box(x, y, x + step, y + step) for x in xs for y in ys]
        for i, part in enumerate(shapely.intersection(province, boxes)):
            polys = [g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon"]
            if not polys or sum(g.area for g in polys) == 0:
                continue
            geom = shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
            code = f"{f['properties']['code']}-g{i}"
            raws.append(
                RawUnit(
                    {"cell": code},
                    {
                        "code": code,
                        "name": f"Synthetic cell {code}",
                        "level": "grid_cell",
                        "parent_code": f["properties"]["code"],
                        "geometry": mapping(geom),
                    },
                )
            )
    return raws


def random_points(n: int, seed: int, land: Any) -> list[tuple[float, float]]:
    """Return n (lat, lon) points, uniform over the land of the loaded units (as reports are)."""
    rng = np.random.default_rng(seed)
    min_lon, min_lat, max_lon, max_lat = VIETNAM_BBOX
    shapely.prepare(land)
    found: list[tuple[float, float]] = []
    while len(found) < n:
        lons = rng.uniform(min_lon, max_lon, 4 * n)
        lats = rng.uniform(min_lat, max_lat, 4 * n)
        keep = shapely.contains_xy(land, lons, lats)
        found += zip(lats[keep].tolist(), lons[keep].tolist(), strict=True)
    return found[:n]


def time_locator(locator: UnitLocator, points: list[tuple[float, float]]) -> tuple[float, int]:
    """Return (lookups per second, points found in a unit) for the locator."""
    locator.locate(*points[0])  # build the index outside the timing
    hits = 0
    start = time.perf_counter()
    for lat, lon in points:
        loc = locator.locate(lat, lon)
        hits += bool(loc.unit or loc.former)
    return len(points) / (time.perf_counter() - start), hits


def time_baseline(shapes: list, points: list[tuple[float, float]]) -> tuple[float, int]:
    """Return (lookups per second, hits) of a linear scan with unprepared polygons."""
    hits = 0
    start = time.perf_counter()
    for lat, lon in points:
        pt = shapely.Point(lon, lat)
        # Naive: test every polygon (the deepest unit may be any of them), no index, unprepared.
        hits += bool([i for i, g in enumerate(shapes) if g.contains(pt)])
    return len(points) / (time.perf_counter() - start), hits


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--baseline-points", type=int, default=500)
    ap.add_argument(
        "--file",
        type=Path,
        default=DATA_DIR / "vn-provinces-34.geojson",
        help="GeoJSON of provinces to load (default: the shipped 34)",
    )
    ap.add_argument(
        "--grid",
        type=float,
        default=0.1,
        help="also load synthetic commune-sized cells of this many degrees (0: none)",
    )
    ap.add_argument("--seed", type=int, default=2025)
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Load the polygons into a temporary database, time both ways, return the figures."""
    features = json.loads(args.file.read_text(encoding="utf-8"))["features"]
    cells = grid_cells(features, args.grid) if args.grid > 0 else []
    shapes = [to_shape(f["geometry"]) for f in features]
    points = random_points(args.points, args.seed, shapely.union_all(shapes))
    shapes += [to_shape(r.fields["geometry"]) for r in cells]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        migrate(db)
        import_all_models()
        with db.session() as session:
            loaded = import_file(session, args.file, BENCH_ADMIN)
            if cells:
                import_units(session, cells, BENCH_ADMIN, source="synthetic grid")
        locator = UnitLocator(db.engine, max_age=3600)
        rate, hits = time_locator(locator, points)
        polygons = locator.snapshot().polygons
        db.dispose()
    base_points = points[: max(1, min(args.baseline_points, len(points)))]
    base_rate, _ = time_baseline(shapes, base_points)
    return {
        "benchmark": "unit_lookup",
        "lookups_per_s": round(rate),
        "baseline_lookups_per_s": round(base_rate, 1),
        "speedup": round(rate / base_rate, 1),
        "target_lookups_per_s": TARGET,
        "meets_target": rate >= TARGET,
        "units": loaded.total + len(cells),
        "synthetic_cells": len(cells),
        "polygons": polygons,
        "points": len(points),
        "baseline_points": len(base_points),
        "points_in_a_unit": hits,
        "source": args.file.name,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON object; exit 1 below the target."""
    result = run(parse_args(argv))
    print(json.dumps(result))
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
