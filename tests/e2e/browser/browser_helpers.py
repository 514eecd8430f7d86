"""Helpers of the Chromium tests: log in as a user would, save screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DEMO_PASSWORD = "cityops-demo-2026"


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of the page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def log_in(page: Any, username: str = "vanhanh", path: str = "/overview") -> None:
    """Open a page, get sent to the login form, log in and come back to it."""
    page.goto(path)
    page.wait_for_url(re.compile(r"/login\?"))
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(at(path))


def at(path: str) -> re.Pattern[str]:
    """Match a page URL whose path is `path` (and no query: not the login page's `next=`)."""
    return re.compile(rf"^[^?]*{re.escape(path)}$")
