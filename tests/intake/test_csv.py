"""`cityops intake csv`: historic readings land in the history, bad rows by row number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from cityops.context.models import ContextAttributeInstance as H
from cityops.context.models import ContextAttributeName as N
from cityops.context.models import ContextEntity
from cityops.core.policy import system_principal
from cityops.intake.csv_import import CsvImport, CsvLayoutError
from conftest import TEST_SECRET

CITYOPS = str(Path(sys.executable).with_name("cityops"))
LAGI = "urn:ngsi-ld:AirQualityObserved:lamdong-aq-lagi"
DINH = "urn:ngsi-ld:FloodMonitoring:lamdong-river-dinh-lagi"
ENV = "https://smartdatamodels.org/dataModel.Environment/"

WIDE = f"""entity_id,observed_at,pm25,pm10,lon,lat
{LAGI},2026-11-01T00:00:00Z,18.5,30.1,107.77,10.66
{LAGI},2026-11-01T08:00:00+07:00,22,35.0,107.77,10.66
not-a-uri,2026-11-01T01:00:00Z,1,2,,
{LAGI},yesterday,1,2,,
{LAGI},2026-11-01T02:00:00Z,25.5,,107.77,10.66
"""

LONG = f"""entity_id,attribute,value,observed_at
{DINH},currentLevel,0.82,2026-10-15T00:00:00Z
{DINH},floodLevelStatus,normal,2026-10-15T00:00:00Z
{DINH},currentLevel,1.95,2026-10-15T06:00:00Z
{DINH},currentLevel,,2026-10-15T07:00:00Z
{DINH},currentLevel,1.40,2026-10-15T03:00:00Z
"""


def history(db, entity_id: str, attr: str) -> list[float | None]:
    """The values filed for one attribute, oldest first."""
    with db.session() as s:
        rows = s.execute(
            select(H.value_num)
            .join(N, N.id == H.attr_id)
            .join(ContextEntity, ContextEntity.pk == H.entity_pk)
            .where(ContextEntity.entity_id == entity_id, N.iri == ENV + attr)
            .order_by(H.observed_at)
        )
        return [v for (v,) in rows]


def test_the_command_imports_good_rows_and_names_the_bad_ones(database, tmp_path):
    path = tmp_path / "quan-trac-la-gi.csv"
    path.write_text(WIDE, encoding="utf-8")
    env = os.environ | {
        "CITYOPS_DATABASE_URL": database.url,
        "CITYOPS_SECRET_KEY": TEST_SECRET,
        "CITYOPS_ENV": "test",
        "CITYOPS_LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [CITYOPS, "intake", "csv", str(path), "--type", "AirQualityObserved"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "Importing quan-trac-la-gi.csv" in result.stderr
    assert "100%" in result.stderr
    assert "row 4: entity_id must be an absolute URI" in result.stderr
    assert "row 5: observed_at is not an ISO 8601 date-time" in result.stderr
    assert "Imported 3 of 5 rows (1 new entities); 2 rows failed." in result.stdout
    assert history(database, LAGI, "pm25") == [18.5, 22.0, 25.5]
    assert history(database, LAGI, "pm10") == [30.1, 35.0]


def test_a_long_file_lands_every_value_in_the_history_and_keeps_the_latest(database, tmp_path):
    path = tmp_path / "song-dinh.csv"
    path.write_text(LONG, encoding="utf-8")
    advanced: list[int] = []
    job = CsvImport(database, system_principal("test"), entity_type="FloodMonitoring")
    report = job.run(path, advanced.append)
    assert (report.rows, report.landed, report.created) == (5, 4, 1)
    assert [line for line, _ in report.errors] == [5]
    assert sum(advanced) == 5
    assert history(database, DINH, "currentLevel") == [0.82, 1.40, 1.95]
    with database.session() as s:
        row = s.scalar(select(ContextEntity).where(ContextEntity.entity_id == DINH))
        assert row.attrs[ENV + "currentLevel"]["value"] == 1.95  # the 03:00 value came late


def test_a_file_with_neither_layout_is_refused(database, tmp_path):
    path = tmp_path / "sai.csv"
    path.write_text("ma_tram,gia_tri\nA,1\n", encoding="utf-8")
    with pytest.raises(CsvLayoutError, match="entity_id"):
        CsvImport(database, system_principal("test"), entity_type="AirQualityObserved").run(path)
