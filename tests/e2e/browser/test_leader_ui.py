"""A leader on a phone: the headline figures, today's incidents and overdue items fit a
390 px wide screen without sideways scrolling."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from e2e.browser.browser_helpers import DEMO_PASSWORD, log_in, screenshot

PHONE = {"width": 390, "height": 844}


def test_the_leader_view_fits_a_390px_phone_and_shows_the_headline_figures(page, demo):
    with httpx.Client(base_url=demo.url, timeout=10) as http:
        login = {"username": "lanhdao", "password": DEMO_PASSWORD}
        assert http.post("/api/auth/login", json=login).status_code == 200
        kpis = http.get("/api/kpis").json()
        stats = http.get("/api/field-reports/stats").json()["total"]
    page.set_viewport_size(PHONE)
    log_in(page, "lanhdao", "/leader")
    view = page.get_by_test_id("leader")
    expect(view.get_by_role("heading", name="Tình hình hôm nay")).to_be_visible()
    tiles = view.get_by_test_id("leader-kpis")
    for kpi in kpis:
        expect(tiles.locator(f'[data-kpi="{kpi["key"]}"]')).to_contain_text(kpi["title_vi"])
    expect(view.get_by_test_id("leader-reports")).to_contain_text(
        f"{stats['received']:,}".replace(",", ".")
    )
    expect(view.get_by_role("heading", name="Phản ánh quá hạn")).to_be_visible()
    page.wait_for_load_state("networkidle")
    widths = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
        " view: window.innerWidth})"
    )
    assert widths["view"] == 390
    assert widths["doc"] <= 390 and widths["body"] <= 390, widths
    screenshot(page, "leader-phone")
