"""An IOC operator uses the web UI in Chromium: logs in, watches the overview, the KPI wall and
the live feed, switches language, and sees when the connection or the session is lost."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import expect

from e2e.browser.browser_helpers import DEMO_PASSWORD, at, log_in, screenshot

READY = "document.body.dataset.overviewReady === '1'"
SLOW = 30_000  # software WebGL on a busy 2-core machine can be slow


def test_operator_logs_in_with_field_errors_shown_and_lands_on_the_page_asked_for(page, problems):
    problems.allow(r"HTTP 401: .*/api/auth/login$")  # the wrong password, on purpose
    problems.allow(r"console: Failed to load resource: .* 401")
    page.goto("/overview")
    page.wait_for_url(re.compile(r"/login\?next=(%2F|/)overview"))
    screenshot(page, "login")
    page.get_by_role("button", name="Đăng nhập").click()  # empty form: checked here first
    expect(page.locator("#username-error")).to_have_text("Vui lòng nhập Tên đăng nhập.")
    page.get_by_label("Tên đăng nhập").fill("vanhanh")
    page.get_by_label("Mật khẩu").fill("not-the-password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#password-error")).to_contain_text("Đăng nhập không thành công")
    expect(page.get_by_label("Mật khẩu")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(at("/overview"))
    expect(page.get_by_test_id("province")).to_have_text("Lâm Đồng")
    expect(page.get_by_test_id("user-name")).to_have_text("vanhanh")
    expect(page.get_by_test_id("shift")).to_have_text(re.compile(r"^Ca (sáng|chiều|đêm)$"))


def test_the_overview_map_shows_the_demo_sensors_and_the_unit_boundaries(page):
    log_in(page)
    page.wait_for_function(READY, timeout=SLOW)
    expect(page.get_by_test_id("sensor-count")).to_have_text("24")
    drawn = page.evaluate(
        """() => {
          const map = window.__cityopsMap
          const layers = ['sensors-points', 'sensors-clusters']
          const sensors = map.queryRenderedFeatures({layers})
          const units = map.querySourceFeatures('units')
          return {sensors: sensors.length, units: units.length, canvas: !!map.getCanvas()}
        }"""
    )
    assert drawn["canvas"] and drawn["sensors"] > 0 and drawn["units"] > 0
    screenshot(page, "overview")


def test_clicking_a_sensor_opens_its_latest_values_and_history_chart(page):
    log_in(page)
    page.wait_for_function(READY, timeout=SLOW)
    point = page.evaluate(
        """() => {
          const map = window.__cityopsMap
          map.jumpTo({center: [108.099, 10.933], zoom: 15})
          return new Promise((done) => map.once('idle', () => {
            const p = map.project([108.099, 10.933])
            done({x: p.x, y: p.y})
          }))
        }"""
    )
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    panel = page.get_by_test_id("detail-panel")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("sông Cà Ty")
    expect(panel).to_contain_text("currentLevel")
    expect(panel.get_by_test_id("timeseries").locator("canvas")).to_be_visible()
    screenshot(page, "overview-detail")


def test_the_kpi_wall_shows_every_registered_kpi(page):
    log_in(page)
    kpis = page.request.get("/api/kpis").json()
    assert kpis, "the demo registers KPIs"
    wall = page.get_by_test_id("kpi-wall")
    for kpi in kpis:
        expect(wall.locator(f'[data-kpi="{kpi["key"]}"]')).to_contain_text(kpi["title_vi"])
    screenshot(page, "kpi-wall")


def test_switching_to_english_changes_the_strings_and_is_remembered(page):
    log_in(page)
    expect(page.get_by_test_id("logout")).to_have_text("Đăng xuất")
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("logout")).to_have_text("Log out")
    expect(page.get_by_test_id("shift")).to_have_text(
        re.compile(r"^(Morning|Afternoon|Night) shift$")
    )
    expect(page.get_by_role("heading", name="KPIs")).to_be_visible()
    first = page.request.get("/api/kpis").json()[0]
    expect(page.locator(f'[data-kpi="{first["key"]}"]')).to_contain_text(first["title_en"])
    assert page.evaluate("document.documentElement.lang") == "en"
    page.reload()
    expect(page.get_by_test_id("logout")).to_have_text("Log out")
    screenshot(page, "overview-en")
    page.get_by_test_id("lang-vi").click()
    expect(page.get_by_test_id("logout")).to_have_text("Đăng xuất")


def test_a_new_field_report_appears_in_the_live_feed_within_two_seconds(page, demo):
    log_in(page)
    page.wait_for_function(READY, timeout=SLOW)
    expect(page.get_by_test_id("live-feed")).to_contain_text("Chưa có sự kiện mới")
    with httpx.Client(base_url=demo.url, timeout=10) as http:
        login = {"username": "vanhanh", "password": DEMO_PASSWORD}
        assert http.post("/api/auth/login", json=login).status_code == 200
        categories = http.get("/api/field-reports/categories").json()["items"]
        category = next(
            c["code"]
            for c in categories
            if not any(a.get("required") for a in c.get("attributes", []))
        )
        started = time.monotonic()
        r = http.post(
            "/api/field-reports/reports",
            json={
                "category_code": category,
                "description": "Đèn đường hỏng trước số 12 Nguyễn Tất Thành",
                "lat": 10.93,
                "lon": 108.10,
            },
        )
    assert r.status_code == 201, r.text
    code = r.json()["tracking_code"]
    item = page.get_by_test_id("live-feed").locator('[data-event="field_reports.report_created"]')
    expect(item.first).to_contain_text(code, timeout=2_000)
    assert time.monotonic() - started < 2.5
    screenshot(page, "live-feed")


FLOOD_RULE = {
    "name": "Mực nước vượt báo động III",
    "kind": "threshold",
    "severity": "critical",
    "entity_type": "FloodMonitoring",
    "condition": "currentLevel>alertLevel3",
    "title_vi": "Mực nước tại {entity} vượt báo động III",
    "title_en": "Water level at {entity} above alert level III",
}


def test_a_reading_crossing_a_rule_shows_up_as_a_live_alert_within_two_seconds(page, demo):
    with httpx.Client(base_url=demo.url, timeout=10) as http:
        assert "alerts" in http.get("/api/ui/config").json()["apis"]
        login = {"username": "admin", "password": DEMO_PASSWORD}
        assert http.post("/api/auth/login", json=login).status_code == 200
        rule = http.post("/api/alerts/rules", json=FLOOD_RULE)
        assert rule.status_code == 201, rule.text
        log_in(page)
        page.wait_for_function(READY, timeout=SLOW)
        reading = {
            "entity_id": "urn:ngsi-ld:FloodMonitoring:lamdong-river-caty-phanthiet",
            "type": "FloodMonitoring",
            "attrs": {"currentLevel": 3.4, "floodLevelStatus": "alert3"},
        }
        started = time.monotonic()
        r = http.post("/api/intake/readings", json={"readings": [reading]})
    assert r.status_code == 200, r.text
    alert = page.get_by_test_id("live-feed").locator('[data-event^="alerts."]')
    expect(alert.first).to_contain_text("báo động III", timeout=2_000)
    assert time.monotonic() - started < 2.5
    screenshot(page, "live-alert")


def test_a_stopped_server_shows_reconnecting_and_the_page_recovers(page, demo, problems):
    problems.allow(r"api/live.*(ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY)")
    problems.allow(r"console: Failed to load resource: net::ERR_")
    log_in(page)
    page.wait_for_function(READY, timeout=SLOW)
    banner = page.get_by_test_id("reconnecting")
    expect(banner).to_be_hidden()
    demo.stop()
    try:
        expect(banner).to_be_visible(timeout=10_000)
        expect(banner).to_contain_text("Đang kết nối lại…")
        screenshot(page, "reconnecting")
    finally:
        demo.start()
    expect(banner).to_be_hidden(timeout=20_000)


def test_an_expired_session_goes_back_to_login_and_then_to_the_same_page(page, demo, problems):
    problems.allow(r"HTTP 401: .*/api/")
    problems.allow(r"console: Failed to load resource: the server responded with a status of 401")
    log_in(page)
    page.wait_for_function(READY, timeout=SLOW)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "cityops_session")
    ended = httpx.post(f"{demo.url}/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert ended.status_code == 204  # the session ends on the server; the browser still has it
    page.wait_for_url(re.compile(r"/login\?next=(%2F|/)overview"), timeout=10_000)
    expect(page.get_by_test_id("expired")).to_contain_text("Phiên làm việc đã hết hạn")
    screenshot(page, "session-expired")
    page.get_by_label("Tên đăng nhập").fill("vanhanh")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(at("/overview"))
    page.wait_for_function(READY, timeout=SLOW)
