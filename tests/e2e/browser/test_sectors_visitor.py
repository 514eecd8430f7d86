"""A visitor, not logged in, opens the public tourism page on a phone: attractions, upcoming
events and their map, in Vietnamese or English."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from e2e.browser.browser_helpers import screenshot

PHONE = {"width": 390, "height": 844}
SLOW = 30_000


def test_visitor_page_lists_attractions_and_events_with_a_map_without_logging_in(page, demo):
    guide = httpx.get(f"{demo.url}/api/tourism/public/visitor", timeout=10).json()
    attractions = guide["attractions"]["features"]
    events = guide["events"]["features"]
    assert attractions and events  # the demo has both
    page.set_viewport_size(PHONE)
    page.goto("/visit")
    expect(page).to_have_url(f"{demo.url}/visit")  # not sent to the login page
    expect(page.get_by_text("Du lịch Lâm Đồng")).to_be_visible()
    listed = page.get_by_test_id("visitor-attractions").locator("li")
    expect(listed).to_have_count(len(attractions))
    expect(listed.first).to_contain_text(attractions[0]["properties"]["name"])
    upcoming = page.get_by_test_id("visitor-events").locator("li")
    expect(upcoming).to_have_count(len(events))
    expect(upcoming.first).to_contain_text(events[0]["properties"]["name"])
    expect(page.get_by_test_id("sector-map")).to_have_attribute(
        "data-ready", str(len(attractions) + len(events)), timeout=SLOW
    )
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    screenshot(page, "visitor-phone")
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_text("Visit Lâm Đồng")).to_be_visible()
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
