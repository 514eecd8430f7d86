"""CSV import of historic readings: every row is filed in the history, good rows land.

Two layouts, told apart by the header:

- wide: `entity_id, observed_at, ATTR1, ATTR2, ...` (one column per attribute);
- long: `entity_id, attribute, value, observed_at` (one attribute value per row).

Optional columns: `type` (else the --type given), `lon` and `lat` (the entity's location,
wide layout). Cells read as numbers, true/false, JSON objects or arrays, else text; an empty
cell is no value. Rows are numbered as in the file (the header is row 1).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cityops.context.entities import iso
from cityops.context.errors import NgsiLdError, bad_request
from cityops.core.db import Database, utcnow
from cityops.core.policy import Principal
from cityops.intake.ingest import Ingestor, Reading
from cityops.intake.payloads import parse_reading

LONG = {"entity_id", "attribute", "value", "observed_at"}
RESERVED = {"entity_id", "observed_at", "type", "lon", "lat"}


class CsvLayoutError(ValueError):
    """The header is not one of the two layouts."""


@dataclass
class CsvReport:
    """What an import did."""

    rows: int = 0
    landed: int = 0
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def cell(text: str) -> Any:
    """Read one cell: number, boolean, JSON object/array, text; None when empty."""
    text = text.strip()
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text[0] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def count_rows(path: Path) -> int:
    """Count the data rows of a CSV file (for the progress bar)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str], list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(f, dialect=dialect)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        for row in reader:
            yield reader.line_num, row, header


def _layout(header: list[str]) -> str:
    if set(header) >= LONG:
        return "long"
    if {"entity_id", "observed_at"} <= set(header) and set(header) - RESERVED:
        return "wide"
    raise CsvLayoutError(
        "the header must be entity_id,observed_at,ATTR... (wide) or "
        f"entity_id,attribute,value,observed_at (long); got {','.join(header)}"
    )


def _item(row: dict[str, str], layout: str, entity_type: str | None) -> dict[str, Any]:
    """Turn a CSV row into a keyValues reading."""
    if layout == "long":
        attrs = {(row.get("attribute") or "").strip(): cell(row.get("value") or "")}
    else:
        attrs = {k: cell(v or "") for k, v in row.items() if k and k not in RESERVED}
        lon, lat = cell(row.get("lon") or ""), cell(row.get("lat") or "")
        if lon is not None and lat is not None:
            attrs["location"] = {"type": "Point", "coordinates": [lon, lat]}
    observed_at = (row.get("observed_at") or "").strip()
    if not observed_at:
        raise bad_request("observed_at is empty")
    return {
        "entity_id": (row.get("entity_id") or "").strip(),
        "type": (row.get("type") or "").strip() or entity_type,
        "attrs": {k: v for k, v in attrs.items() if v is not None},
        "observed_at": observed_at,
    }


@dataclass
class CsvImport:
    """Imports one CSV file in batches of `batch_size` rows (one transaction each)."""

    db: Database
    principal: Principal
    entity_type: str | None = None
    context: Any = None
    tenant: str = ""
    batch_size: int = 500

    def run(self, path: Path, progress: Callable[[int], None] = lambda n: None) -> CsvReport:
        """Import every row; report the bad ones by row number."""
        ingestor = Ingestor(self.db, track_devices=False)
        report = CsvReport()
        batch: list[Reading] = []
        now = iso(utcnow())
        layout: str | None = None
        for line, row, header in _rows(path):
            layout = layout or _layout(header)
            report.rows += 1
            try:
                item = _item(row, layout, self.entity_type)
                parsed = parse_reading(ingestor.resolver, item, self.context, now)
                batch.append(Reading.of(line, self.tenant, self.principal, parsed))
            except NgsiLdError as err:
                report.errors.append((line, err.detail))
            if report.rows % self.batch_size == 0:
                self._flush(ingestor, batch, report)
                progress(self.batch_size)
        self._flush(ingestor, batch, report)
        progress(report.rows % self.batch_size)
        report.errors.sort()
        return report

    def _flush(self, ingestor: Ingestor, batch: list[Reading], report: CsvReport) -> None:
        if not batch:
            return
        result = ingestor.apply(batch)
        report.landed += len(result.landed)
        report.created += len(result.created)
        report.errors.extend((e.index, e.error.detail) for e in result.errors)
        batch.clear()
