"""The alerts console in Chromium: a new alert shows up live and is handled with a note, a rule's
syntax error is shown at its position, and an incident's SOP checklist is ticked off."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import expect

from e2e.browser.browser_helpers import DEMO_PASSWORD, log_in, screenshot


@contextmanager
def admin(demo) -> Iterator[httpx.Client]:
    """An HTTP client logged in as the demo admin."""
    with httpx.Client(base_url=demo.url, timeout=10) as client:
        login = {"username": "admin", "password": DEMO_PASSWORD}
        assert client.post("/api/auth/login", json=login).status_code == 200
        yield client


@pytest.fixture(autouse=True)
def _needs_alerts(demo) -> None:
    """Skip, saying why, when this build has no alerts package."""
    if "alerts" not in httpx.get(f"{demo.url}/api/ui/config").json()["apis"]:
        pytest.skip("the alerts package (GET /api/alerts) is not in this build")


def test_a_new_alert_appears_live_and_is_acknowledged_with_a_note(page, demo):
    log_in(page, "vanhanh", "/alerts")
    expect(page.get_by_test_id("alert-total")).to_be_visible()
    page.wait_for_function("document.querySelector('.live-dot.open') !== null")
    body = {"severity": "critical", "title_vi": "Sạt lở taluy đèo Prenn", "title_en": "Landslide"}
    with admin(demo) as http:
        started = time.monotonic()
        alert = http.post("/api/alerts", json=body).json()
    item = page.locator(f'[data-alert="{alert["id"]}"]')
    expect(item).to_contain_text("Sạt lở taluy đèo Prenn", timeout=2_000)
    assert time.monotonic() - started < 2.5
    expect(item).to_contain_text("Khẩn cấp")
    item.get_by_role("button").click()
    drawer = page.get_by_test_id("alert-drawer")
    expect(drawer.get_by_test_id("alert-title")).to_have_text("Sạt lở taluy đèo Prenn")
    drawer.locator('[data-action="acknowledge"]').click()
    drawer.get_by_label("Ghi chú").fill("Đã báo đội cứu hộ giao thông")
    drawer.get_by_role("button", name="Xác nhận thao tác").click()
    expect(drawer.get_by_test_id("alert-done")).to_have_text("Đã thực hiện: Xác nhận")
    expect(drawer.get_by_test_id("alert-timeline")).to_contain_text("Đã báo đội cứu hộ giao thông")
    expect(item).to_contain_text("Đã xác nhận")
    screenshot(page, "alerts-console")


def test_a_rule_syntax_error_is_shown_at_its_position_and_the_fixed_rule_is_saved(page):
    log_in(page, "vanhanh", "/alerts/rules")
    page.get_by_test_id("rule-new").click()
    editor = page.get_by_test_id("rule-editor")
    editor.get_by_role("button", name="Lưu").click()
    expect(editor.locator("#rule-name-error")).to_contain_text("Vui lòng nhập Tên quy tắc.")
    editor.get_by_label("Tên quy tắc").fill("Mực nước sông Cà Ty vượt báo động III")
    editor.get_by_label("Loại thực thể (NGSI-LD)").fill("FloodMonitoring")
    editor.get_by_label("Điều kiện", exact=True).fill("currentLevel>>3")
    editor.get_by_label("Tiêu đề cảnh báo (tiếng Việt)").fill("Mực nước tại {entity} vượt BĐ III")
    editor.get_by_label("Tiêu đề cảnh báo (tiếng Anh)").fill("Water at {entity} above level III")
    editor.get_by_test_id("rule-validate").click()
    error = editor.locator("#rule-condition-error")
    expect(error).to_contain_text("tại ký tự 14")
    expect(error.locator("pre.caret mark")).to_have_text(">")
    expect(error.locator("pre.caret")).to_have_attribute("data-position", "13")
    expect(editor.get_by_label("Điều kiện", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "alert-rule-error")
    editor.get_by_label("Điều kiện", exact=True).fill("currentLevel>3")
    editor.get_by_role("button", name="Lưu").click()
    row = page.get_by_test_id("rule-table").get_by_role("row", name=re.compile("sông Cà Ty"))
    expect(row).to_contain_text("currentLevel>3")


def test_a_cluster_rule_is_built_in_the_editor_with_its_errors_next_to_their_fields(page):
    log_in(page, "vanhanh", "/alerts/rules")
    page.get_by_test_id("rule-new").click()
    editor = page.get_by_test_id("rule-editor")
    editor.get_by_test_id("rule-kind").select_option("count_window")
    expect(editor.get_by_label("Điều kiện", exact=True)).to_have_count(0)
    editor.get_by_label("Tên quy tắc").fill("Nhiều phản ánh ngập gần nhau")
    editor.get_by_label("Sự kiện", exact=True).fill("field_reports.report_created")
    editor.get_by_label("Lọc theo trường sự kiện (JSON, không bắt buộc)").fill('{"category": ')
    editor.get_by_label("Số sự kiện kích hoạt").fill("1")
    editor.get_by_label("Trong bán kính (mét)").fill("300")
    editor.get_by_label("Trong khoảng thời gian (giây)").fill("3600")
    editor.get_by_label("Tiêu đề cảnh báo (tiếng Việt)").fill("Cụm phản ánh ngập")
    editor.get_by_label("Tiêu đề cảnh báo (tiếng Anh)").fill("Cluster of flooding reports")
    editor.get_by_test_id("rule-validate").click()
    expect(editor.locator("#rule-filter-error")).to_contain_text("Không phải đối tượng JSON")
    editor.get_by_label("Lọc theo trường sự kiện (JSON, không bắt buộc)").fill(
        '{"category_code": "PA-NGAP"}'
    )
    editor.get_by_test_id("rule-validate").click()
    expect(editor.locator("#rule-count-error")).to_have_text("Vui lòng nhập số từ 2 trở lên.")
    expect(editor.get_by_label("Số sự kiện kích hoạt")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "alert-rule-cluster-error")
    editor.get_by_label("Số sự kiện kích hoạt").fill("5")
    editor.get_by_label("Trong bán kính (mét)").fill("0")
    editor.get_by_role("button", name="Lưu").click()
    expect(editor.locator("#rule-radius_m-error")).to_have_text("Vui lòng nhập số lớn hơn 0.")
    editor.get_by_label("Trong bán kính (mét)").fill("300")
    editor.get_by_role("button", name="Lưu").click()
    row = page.get_by_test_id("rule-table").get_by_role("row", name=re.compile("ngập gần nhau"))
    expect(row).to_contain_text("field_reports.report_created")


def test_an_incidents_sop_checklist_is_ticked_off_and_kept(page, demo):
    sop = {
        "code": "SAT-LO-E2E",
        "name_vi": "Ứng phó sạt lở",
        "name_en": "Landslide response",
        "hazard": "landslide",
        "steps": [
            {
                "title_vi": "Phong tỏa hiện trường",
                "title_en": "Close the site",
                "due_minutes": 30,
                "checklist": [
                    {"vi": "Đặt biển cảnh báo", "en": "Put up warning signs"},
                    {"vi": "Phân luồng giao thông", "en": "Divert traffic"},
                ],
            }
        ],
    }
    with admin(demo) as http:
        assert http.post("/api/sop-templates", json=sop).status_code == 201
        unit = http.get("/api/units/68").json()["id"]
        body = {"severity": "major", "title_vi": "Sạt lở ĐT725", "title_en": "Landslide"}
        alert = http.post("/api/alerts", json=body | {"unit_id": unit}).json()
        made = http.post(f"/api/alerts/{alert['id']}/promote", json={"sop_code": "SAT-LO-E2E"})
        assert made.status_code == 201, made.text
        code = made.json()["code"]
    log_in(page, "vanhanh", f"/incidents?open={code}")
    detail = page.get_by_test_id("incident-detail")
    tasks = detail.get_by_test_id("incident-tasks")
    expect(tasks).to_contain_text("Phong tỏa hiện trường")
    sign = tasks.get_by_label("Đặt biển cảnh báo")
    sign.check()
    expect(sign).to_be_checked()
    page.reload()
    expect(page.get_by_test_id("incident-tasks").get_by_label("Đặt biển cảnh báo")).to_be_checked()
    expect(
        page.get_by_test_id("incident-tasks").get_by_label("Phân luồng giao thông")
    ).not_to_be_checked()
    screenshot(page, "incident-detail")


def test_the_bell_shows_a_new_critical_alert_and_opens_it_marked_as_read(page, demo):
    log_in(page, "vanhanh", "/overview")
    page.wait_for_function("document.querySelector('.live-dot.open') !== null")
    with admin(demo) as http:
        body = {"severity": "critical", "title_vi": "Cháy rừng Bảo Lộc", "title_en": "Forest fire"}
        alert = http.post("/api/alerts", json=body).json()
    bell = page.get_by_test_id("bell")
    expect(bell).to_have_attribute("aria-label", re.compile(r"^\d+ thông báo chưa đọc$"))
    bell.click()
    menu = page.get_by_test_id("bell-menu")
    expect(menu).to_contain_text("Cháy rừng Bảo Lộc")
    screenshot(page, "notifications-bell")
    menu.get_by_role("button", name=re.compile("Cháy rừng Bảo Lộc")).first.click()
    page.wait_for_url(re.compile(rf"/alerts\?open={alert['id']}$"))
    expect(page.get_by_test_id("alert-title")).to_have_text("Cháy rừng Bảo Lộc")
    feed = page.request.get("/api/notifications?limit=100").json()
    mine = [n for n in feed["items"] if "Cháy rừng Bảo Lộc" in n["subject_vi"]]
    assert mine and mine[0]["read_at"] is not None
    expect(page.get_by_test_id("bell")).to_have_attribute(
        "aria-label", f"{feed['unread']} thông báo chưa đọc" if feed["unread"] else "Thông báo"
    )


def test_a_leader_reads_an_alert_but_is_offered_no_actions(page, demo):
    with admin(demo) as http:
        body = {"severity": "minor", "title_vi": "Mất điện trạm bơm Phú Thủy", "title_en": "Outage"}
        alert = http.post("/api/alerts", json=body).json()
    log_in(page, "lanhdao", f"/alerts?open={alert['id']}")
    drawer = page.get_by_test_id("alert-drawer")
    expect(drawer.get_by_test_id("alert-title")).to_have_text("Mất điện trạm bơm Phú Thủy")
    expect(drawer.locator("[data-action]")).to_have_count(0)
