"""`cityops demo` end to end: a real server on a free port, used over HTTP as an admin would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pgcluster import free_port

CITYOPS = str(Path(sys.executable).with_name("cityops"))


@pytest.fixture
def demo_server(database, tmp_path):
    port = free_port()
    env = os.environ | {
        "CITYOPS_DATABASE_URL": database.url,
        "CITYOPS_ENV": "demo",
        "CITYOPS_DATA_DIR": str(tmp_path / "var"),
        "CITYOPS_LOG_LEVEL": "WARNING",
    }
    env.pop("CITYOPS_SECRET_KEY", None)
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        [CITYOPS, "demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"cityops demo exited early:\n{log.read()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("cityops demo did not become ready in 90 s")
        log.seek(0)
        yield base, log.read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_demo_serves_lam_dong_and_an_admin_can_set_up_agencies_and_users(demo_server):
    base, output = demo_server
    assert "admin" in output and "cityops-demo-2026" in output  # it says how to log in
    with httpx.Client(base_url=base, timeout=10) as http:
        login = http.post(
            "/api/auth/login", json={"username": "admin", "password": "cityops-demo-2026"}
        )
        assert login.status_code == 200, login.text
        tree = http.get("/api/units/tree").json()  # the session cookie authenticates
        roots = tree if isinstance(tree, list) else tree["items"]
        province = next(u for u in roots if u["code"] == "68")
        assert province["name"].endswith("Lâm Đồng")
        communes = [c for c in province["children"] if c["level"] == "commune"]
        assert len(communes) == 124
        assert any(c["name"] == "Phường Mũi Né" for c in communes)

        agency = http.post(
            "/api/agencies",
            json={"code": "BQL-PT", "name": "Ban quản lý dự án Phan Thiết", "unit_code": "68"},
        )
        assert agency.status_code == 201, agency.text
        user = http.post(
            "/api/users",
            json={
                "username": "bqlpt",
                "role": "agency_staff",
                "unit_code": "68",
                "agency_code": "BQL-PT",
                "password": "mat-khau-dai-du",
            },
        )
        assert user.status_code == 201, user.text

        located = http.get("/api/units/locate", params={"lat": 10.93, "lon": 108.10}).json()
        assert "68" in str(located)  # a point in Phan Thiết lies in Lâm Đồng

        docs = http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert http.get("/").status_code == 200
