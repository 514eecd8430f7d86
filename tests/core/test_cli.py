"""The `cityops` command, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_SECRET

CITYOPS = str(Path(sys.executable).with_name("cityops"))


def run(
    database_url: str, *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "CITYOPS_DATABASE_URL": database_url,
        "CITYOPS_SECRET_KEY": TEST_SECRET,
        "CITYOPS_ENV": "test",
        "CITYOPS_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [CITYOPS, *args], env=env, capture_output=True, text=True, input=input, timeout=120
    )


@pytest.fixture
def url(database, factory) -> str:
    factory.unit("68", "Lâm Đồng")
    return database.url


def test_create_user_then_log_in_with_it(url, client):
    result = run(
        url,
        "create-user",
        "--username",
        "vanhanh",
        "--role",
        "operator",
        "--unit",
        "68",
        "--full-name",
        "Nguyễn Văn An",
        "--password",
        "mat-khau-dai-du",
    )
    assert result.returncode == 0, result.stderr
    assert "vanhanh" in result.stdout
    login = client.post(
        "/api/auth/login", json={"username": "vanhanh", "password": "mat-khau-dai-du"}
    )
    assert login.status_code == 200
    me = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["unit_code"] == "68"


def test_create_user_with_unknown_unit_says_so(url):
    result = run(
        url,
        "create-user",
        "--username",
        "nguoimoi",
        "--role",
        "operator",
        "--unit",
        "00000",
        "--password",
        "mat-khau-dai-du",
    )
    assert result.returncode == 1 and "unknown_unit" in result.stderr


def test_create_api_key_prints_a_key_that_the_api_accepts(url, client):
    result = run(
        url, "create-api-key", "--name", "Trạm đo mưa", "--role", "integrator", "--unit", "68"
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("cok_")
    me = client.get("/api/auth/me", headers={"X-API-Key": key}).json()
    assert me["kind"] == "api_key" and me["role"] == "integrator" and me["unit_code"] == "68"


def test_cli_writes_are_audited_as_the_cli(url, client, factory):
    run(url, "create-api-key", "--name", "script")
    admin = factory.headers(factory.user("admin"))
    entries = client.get("/api/audit", params={"action": "api_key.create"}, headers=admin).json()[
        "items"
    ]
    assert entries and entries[0]["actor"].startswith("system:0:cli:")


def test_units_import_loads_the_legacy_binh_thuan_tree(database, client, factory):
    csv = Path(__file__).resolve().parents[2] / "src/cityops/data/boundaries/binh-thuan-2023.csv"
    result = run(database.url, "units", "import", str(csv))
    assert result.returncode == 0, result.stderr
    admin = factory.headers(factory.user("admin"))
    children = client.get("/api/units/60/children", headers=admin).json()
    names = {u["name"] for u in (children["items"] if isinstance(children, dict) else children)}
    assert len(names) == 10 and "Thành phố Phan Thiết" in names


def test_units_import_of_a_bad_file_names_the_row_and_imports_nothing(
    database, tmp_path, client, factory
):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\n70,Tỉnh A,province,\n701,Huyện B,district,99999\n",
        encoding="utf-8",
    )
    result = run(database.url, "units", "import", str(bad))
    assert result.returncode == 1
    assert "99999" in result.stderr and "3" in result.stderr  # the row (spreadsheet numbering)
    admin = factory.headers(factory.user("admin"))
    assert client.get("/api/units/70", headers=admin).status_code == 404
