"""Chromium end-to-end fixtures: the demo served by a real `cityops demo` process on its own
database, Debian's Chromium driven by Playwright, pages that fail on console errors and failed
requests, and screenshots saved under test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pgcluster import free_port

ROOT = Path(__file__).resolve().parents[3]
CITYOPS = str(Path(sys.executable).with_name("cityops"))
CHROMIUM = Path(os.environ.get("CITYOPS_CHROMIUM", "/usr/bin/chromium"))
BUILD = ROOT / "src" / "cityops" / "web" / "static" / "index.html"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HEARTBEAT_S = 2  # the live feed re-checks the session this often (expired-session test)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests, saying why, when Chromium is not installed."""
    if CHROMIUM.is_file():
        return
    reason = f"Chromium is not installed ({CHROMIUM}); `make setup` installs Debian's chromium"
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=reason))


def _own_database(database_url: str, tmp: Path) -> str:
    """A database for the demo, apart from the one the other tests empty after each test."""
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp / 'browser-demo.db'}"
    import psycopg

    base, _, _ = database_url.rpartition("/")
    conninfo = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "cityops_browser"')
        conn.execute('CREATE DATABASE "cityops_browser"')
    return f"{base}/cityops_browser"


class DemoServer:
    """`cityops demo` on a free port; can be stopped and started again on the same data."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.env = os.environ | {
            "CITYOPS_DATABASE_URL": database_url,
            "CITYOPS_ENV": "demo",
            "CITYOPS_DATA_DIR": str(tmp / "var"),
            "CITYOPS_LOG_LEVEL": "WARNING",
            "CITYOPS_WEB__LIVE_HEARTBEAT_S": str(HEARTBEAT_S),
        }
        self.env.pop("CITYOPS_SECRET_KEY", None)
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> DemoServer:
        """Start the server and wait until /readyz answers."""
        log = (self.tmp / "demo.log").open("a")
        self.proc = subprocess.Popen(
            [CITYOPS, "demo", "--port", str(self.port)], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"cityops demo exited:\n{(self.tmp / 'demo.log').read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail("cityops demo did not become ready in 120 s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, as Ctrl+C or systemd would)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def simulate(self, ticks: int = 1) -> None:
        """Feed the demo stations' readings once, as `make run` does continuously."""
        subprocess.run(
            [CITYOPS, "simulate", "--url", self.url, "--ticks", str(ticks), "--interval", "0.1"],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def demo(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The Lâm Đồng demo with its simulated stations, served for a module's browser tests."""
    if not BUILD.is_file():
        pytest.fail(f"the web UI is not built ({BUILD}): run `make frontend`")
    tmp = tmp_path_factory.mktemp("browser")
    server = DemoServer(_own_database(database_url, tmp), tmp).start()
    try:
        server.simulate()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, with no network beyond loopback."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


class PageProblems:
    """Console errors, uncaught exceptions and failed requests seen by a page."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        """Accept problems matching a regular expression (what the test provokes on purpose)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        """The problems not allowed."""
        return [p for p in self.items if not any(a.search(p) for a in self.allowed)]


@pytest.fixture
def problems() -> PageProblems:
    """What went wrong in the page; the test fails at the end if anything unexpected did."""
    return PageProblems()


@pytest.fixture
def page(browser: Any, demo: DemoServer, problems: PageProblems) -> Iterator[Any]:
    """A fresh browser page (own cookies and storage) on the demo; fails on console errors."""
    context = browser.new_context(
        base_url=demo.url, viewport={"width": 1600, "height": 900}, locale="vi-VN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: m.type == "error" and problems.items.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.items.append(f"exception: {e}"))

    def failed(request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":  # a navigation or page close cancels it
            problems.items.append(f"request failed: {request.url} {request.failure}")

    page.on("requestfailed", failed)
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.items.append(f"HTTP {r.status}: {r.url}"),
    )
    yield page
    context.close()
    assert not problems.unexpected(), "the page reported problems:\n" + "\n".join(
        problems.unexpected()
    )
