"""The sensors page in Chromium: every demo station with its state and latest values, filtered
in the page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.browser.browser_helpers import log_in, screenshot


def test_the_sensors_page_lists_the_demo_stations_and_filters_them(page):
    log_in(page, "vanhanh", "/devices")
    expect(page.get_by_test_id("device-total")).to_have_text("24 cảm biến")
    rows = page.get_by_test_id("device-table").locator("tbody tr")
    expect(rows).to_have_count(24)
    page.get_by_label("Loại").select_option("FloodMonitoring")
    flood = rows.count()
    assert 0 < flood < 24
    for text in rows.locator("td:nth-child(2)").all_inner_texts():
        assert text == "FloodMonitoring"
    expect(rows.first).to_contain_text(re.compile(r"currentLevel: \d"))
    page.get_by_label("Tìm theo tên hoặc mã").fill("Cà Ty")
    expect(rows.first).to_contain_text("Cà Ty")
    names = rows.locator("td:nth-child(1)").all_inner_texts()
    assert 0 < len(names) < flood and all("Cà Ty" in n for n in names), names
    screenshot(page, "devices")
