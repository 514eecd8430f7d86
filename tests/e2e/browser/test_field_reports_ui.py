"""Field reports in Chromium: a citizen sends one on the public page, the IOC operator verifies
and routes it in the queue, the agency resolves it, the citizen tracks and rates it; plus the
errors and checks each form shows next to its fields."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from e2e.browser.browser_helpers import DEMO_PASSWORD, log_in, screenshot

PHAN_THIET = {"latitude": 10.933, "longitude": 108.099}


def png(colour: str = "orange", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real PNG photo."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@contextmanager
def staff(demo, username: str = "admin") -> Iterator[httpx.Client]:
    """An HTTP client logged in as a demo user (to set the scene or check the result)."""
    with httpx.Client(base_url=demo.url, timeout=10) as client:
        login = {"username": username, "password": DEMO_PASSWORD}
        assert client.post("/api/auth/login", json=login).status_code == 200
        yield client


def submit_by_api(demo, description: str = "Rác thải đổ trộm cạnh chợ Phan Thiết") -> str:
    """Send a citizen report through the public API and return its tracking code."""
    body = {"category_code": "PA-RAC", "description": description, "lat": 10.933, "lon": 108.099}
    r = httpx.post(f"{demo.url}/api/field-reports/public/reports", json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["tracking_code"]


@pytest.fixture(scope="module")
def queue(demo) -> list[str]:
    """Sixty reports entered by staff, the first five verified: a queue with two pages."""
    codes = []
    with staff(demo) as http:
        for i in range(60):
            body = {
                "category_code": "PA-RAC",
                "description": f"Điểm tập kết rác tự phát số {i + 1} trên đường Lê Lợi",
                "lat": 10.925 + i * 0.0003,
                "lon": 108.095 + i * 0.0002,
            }
            r = http.post("/api/field-reports/reports", json=body)
            assert r.status_code == 201, r.text
            codes.append(r.json()["tracking_code"])
        for code in codes[:5]:
            r = http.post(f"/api/field-reports/reports/{code}/verify", json={})
            assert r.status_code == 200, r.text
    return codes


def log_out(page) -> None:
    """Log out with the header button."""
    page.get_by_test_id("logout").click()
    page.wait_for_url(re.compile(r"/login"))


def open_in_queue(page, code: str):
    """Find a report in the queue by its code and open its drawer."""
    page.get_by_label("Tìm theo nội dung, mã, địa chỉ").fill(code)
    page.get_by_role("button", name="Lọc", exact=True).click()
    row = page.locator(f'tr[data-code="{code}"]')
    expect(row).to_be_visible()
    row.get_by_role("button", name=code).click()
    drawer = page.get_by_test_id("report-drawer")
    expect(drawer.get_by_role("heading", level=2)).to_have_text(f"Phản ánh {code}")
    return drawer


def run_step(drawer, action: str, fill: dict[str, str] | None = None, select=None) -> None:
    """Open a workflow step's form, fill it and confirm; wait for the 'done' notice."""
    drawer.locator(f'[data-action="{action}"]').click()
    form = drawer.get_by_test_id(f"form-{action}")
    for label, value in (select or {}).items():
        form.get_by_label(label).select_option(value)
    for label, value in (fill or {}).items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Xác nhận").click()
    expect(drawer.get_by_test_id("action-done")).to_be_visible()


def test_a_citizen_report_goes_through_operator_and_agency_and_back_to_the_citizen(page):
    # the citizen, on the public page, with the phone's location
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(PHAN_THIET)
    page.goto("/public")
    expect(page.get_by_role("heading", name="Gửi phản ánh")).to_be_visible()
    page.get_by_label("Lĩnh vực").select_option("PA-RAC")
    page.get_by_label("Nội dung phản ánh").fill(
        "Bãi rác tự phát bốc mùi ở đầu hẻm 12 Trần Hưng Đạo"
    )
    page.get_by_test_id("use-location").click()
    expect(page.get_by_test_id("picked-point")).to_contain_text("10.933, 108.099")
    page.locator("#photos").set_input_files(
        [{"name": "rac.png", "mimeType": "image/png", "buffer": png()}]
    )
    page.get_by_label("Thư điện tử").fill("dan.phanthiet@example.vn")
    screenshot(page, "public-submit")
    page.get_by_role("button", name="Gửi phản ánh").click()
    code = page.get_by_test_id("tracking-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{6,}", code), code
    screenshot(page, "public-receipt")

    # the IOC operator verifies it as urgent and routes it to the Department of Construction
    log_in(page, "vanhanh", "/reports")
    drawer = open_in_queue(page, code)
    expect(drawer.get_by_test_id("report-description")).to_contain_text("Bãi rác tự phát")
    expect(drawer.get_by_role("img")).to_have_count(1)
    run_step(drawer, "verify", select={"Mức độ khẩn": "urgent"})
    expect(drawer.get_by_test_id("status-badge")).to_have_text("Đã chuyển xử lý")
    run_step(
        drawer,
        "assign",
        select={"Cơ quan nhận": "SXD-LD"},
        fill={"Lý do": "Bãi rác nằm trên hành lang công trình đường đang thi công"},
    )
    expect(drawer).to_contain_text("Sở Xây dựng tỉnh Lâm Đồng")
    expect(drawer.get_by_test_id("report-history")).to_contain_text("hành lang công trình")
    screenshot(page, "reports-queue-drawer")
    log_out(page)

    # the agency's staff accept, start, post progress and resolve it with a photo
    log_in(page, "xaydung", "/reports")
    expect(page.get_by_role("heading", name="Phản ánh giao cho cơ quan tôi")).to_be_visible()
    drawer = open_in_queue(page, code)
    expect(drawer.locator('[data-action="verify"]')).to_have_count(0)
    run_step(drawer, "accept")
    run_step(drawer, "start")
    run_step(
        drawer, "progress", fill={"Ghi chú": "Đã điều xe thu gom, dự kiến xong trong chiều nay"}
    )
    expect(drawer.get_by_test_id("report-comments")).to_contain_text("Đã điều xe thu gom")
    drawer.locator('[data-action="resolve"]').click()
    form = drawer.get_by_test_id("form-resolve")
    form.get_by_label("Đã làm gì").fill("Đã thu gom toàn bộ rác và đặt biển cấm đổ rác")
    form.get_by_label("Ảnh kết quả (không bắt buộc)").set_input_files(
        [{"name": "xong.png", "mimeType": "image/png", "buffer": png("green")}]
    )
    form.get_by_role("button", name="Xác nhận").click()
    expect(drawer.get_by_test_id("status-badge")).to_have_text("Đã xử lý xong")
    expect(drawer.get_by_role("img")).to_have_count(2)
    screenshot(page, "reports-agency-resolved")
    log_out(page)

    # the citizen tracks it, reads the answer and rates it (the secret is remembered)
    page.goto(f"/public/track?code={code}")
    result = page.get_by_test_id("track-result")
    expect(result.get_by_test_id("status-badge")).to_have_text("Đã xử lý xong")
    expect(result.get_by_test_id("track-agency")).to_have_text("Sở Xây dựng tỉnh Lâm Đồng")
    expect(result.get_by_test_id("track-answer")).to_have_text(
        "Đã thu gom toàn bộ rác và đặt biển cấm đổ rác"
    )
    expect(result).to_contain_text("Đã điều xe thu gom")
    expect(result.get_by_role("img")).to_have_count(2)  # the citizen's photo and the agency's
    expect(result.get_by_test_id("track-timeline")).to_contain_text("Cơ quan đã nhận")
    screenshot(page, "public-track")
    result.get_by_label("5 sao").check()
    result.get_by_role("button", name="Gửi đánh giá").click()
    expect(result.get_by_test_id("track-message")).to_have_text(
        "Bạn đã đánh giá 5/5 sao. Cảm ơn bạn!"
    )
    expect(result.get_by_test_id("status-badge")).to_have_text("Đã đóng")


def test_the_public_page_is_vietnamese_first_and_switches_to_english(page):
    page.goto("/public")
    expect(page.get_by_role("heading", name="Gửi phản ánh")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "vi"
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name="Send a report")).to_be_visible()
    expect(page.get_by_label("Category")).to_be_visible()
    expect(page.get_by_role("link", name="Track")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.reload()
    expect(page.get_by_role("button", name="Send report")).to_be_visible()
    screenshot(page, "public-submit-en")
    page.get_by_test_id("lang-vi").click()
    expect(page.get_by_role("button", name="Gửi phản ánh")).to_be_visible()


def test_the_citizen_pages_fit_a_390px_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/public", "/public/track", "/public/map"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    expect(page).to_have_title("Bản đồ phản ánh — Phản ánh hiện trường")
    screenshot(page, "public-map-phone")


def test_the_form_checks_itself_first_then_shows_the_servers_422_next_to_its_field(page, problems):
    problems.allow(r"HTTP 422: .*/api/field-reports/public/reports$")
    problems.allow(r"console: Failed to load resource: the server responded with a status of 422")
    page.goto("/public")
    page.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.locator("#category-error")).to_have_text("Vui lòng chọn Lĩnh vực.")
    expect(page.locator("#description-error")).to_have_text("Vui lòng nhập Nội dung phản ánh.")
    expect(page.locator("#place-error")).to_contain_text("Vui lòng chọn vị trí")
    page.get_by_label("Lĩnh vực").select_option("PA-DUONG")  # asks "Mức độ hư hỏng" first
    page.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.locator("#attr-SIZE-error")).to_have_text("Vui lòng chọn Mức độ hư hỏng.")
    page.get_by_label("Mức độ hư hỏng *").select_option("large")
    page.get_by_label("Nội dung phản ánh").fill("Ổ gà lớn giữa đường Tôn Đức Thắng")
    page.get_by_label("Địa chỉ (số nhà, đường, phường/xã)").fill("Tôn Đức Thắng, Phan Thiết")
    page.get_by_label("Thư điện tử").fill("dan@localhost")  # passes the browser's check only
    with page.expect_response("**/api/field-reports/public/reports") as answer:
        page.get_by_role("button", name="Gửi phản ánh").click()
    assert answer.value.status == 422
    expect(page.locator("#email-error")).to_contain_text("valid email address")
    expect(page.get_by_label("Thư điện tử")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Nội dung phản ánh")).to_have_value(
        "Ổ gà lớn giữa đường Tôn Đức Thắng"
    )
    screenshot(page, "public-submit-422")
    page.get_by_label("Thư điện tử").fill("dan@example.vn")
    page.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.get_by_test_id("tracking-code")).to_have_text(re.compile(r"\S{6,}"))


def test_photos_are_checked_for_type_and_count_before_anything_is_sent(page):
    page.goto("/public")
    photos = page.locator("#photos")
    photos.set_input_files([{"name": "ghichu.txt", "mimeType": "text/plain", "buffer": b"x"}])
    expect(page.get_by_role("alert")).to_have_text(
        "Tệp ghichu.txt không phải ảnh JPEG, PNG hoặc WebP."
    )
    six = [{"name": f"anh{i}.png", "mimeType": "image/png", "buffer": png()} for i in range(6)]
    photos.set_input_files(six)
    expect(page.get_by_role("alert")).to_have_text("Chỉ gửi được tối đa 5 ảnh.")
    expect(page.locator(".files li")).to_have_count(5)
    page.get_by_role("button", name="Bỏ ảnh anh0.png").click()
    expect(page.locator(".files li")).to_have_count(4)


def test_the_citizen_page_weighs_under_100_kb_on_the_wire(page):
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto("/public")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("Lĩnh vực")).to_contain_text("Hư hỏng đường sá")
    sizes = {r.url: r.request.sizes()["responseBodySize"] for r in responses}
    assert sum(sizes.values()) < 100_000, sizes


def test_the_map_library_loads_only_when_the_citizen_opens_the_map(page):
    scripts: list[str] = []
    page.on("request", lambda r: r.resource_type == "script" and scripts.append(r.url))
    page.goto("/public")
    page.wait_for_load_state("networkidle")
    assert scripts and not [s for s in scripts if "maplibre" in s.lower()], scripts
    page.get_by_test_id("toggle-map").click()
    picker = page.locator('[data-testid="map-picker"][data-ready="1"]')
    expect(picker).to_be_visible()
    assert [s for s in scripts if "maplibre" in s.lower() or "mapbase" in s.lower()]
    point = page.evaluate(
        """() => {
          const map = window.__cityopsPicker
          map.jumpTo({center: [108.099, 10.933], zoom: 14})
          const p = map.project([108.1, 10.94])
          return {x: p.x, y: p.y}
        }"""
    )
    box = picker.bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    expect(page.get_by_test_id("picked-point")).to_be_visible()
    lat, lon = map(float, re.findall(r"\d+\.\d+", page.get_by_test_id("picked-point").inner_text()))
    assert abs(lat - 10.94) < 0.001 and abs(lon - 108.1) < 0.001
    screenshot(page, "public-map-picker")


def test_the_public_map_shows_verified_reports_only(page, demo, queue):
    listed = httpx.get(f"{demo.url}/open311/v2/requests.json", timeout=10).json()
    verified = [r for r in listed if r["description"] is not None and r["lat"] is not None]
    assert 0 < len(verified) < len(listed)
    page.goto("/public/map")
    expect(page.locator('[data-testid="public-map"][data-ready="1"]')).to_be_visible()
    expect(page.get_by_test_id("public-map-count")).to_have_text(
        f"{len(verified)} phản ánh trên bản đồ"
    )
    shown = page.evaluate(
        "() => window.__cityopsPublicMap.querySourceFeatures('reports').map(f => f.properties.code)"
    )
    unverified = {r["service_request_id"] for r in listed} - {
        r["service_request_id"] for r in verified
    }
    assert shown and not unverified & set(shown)
    outline = (
        "() => window.__cityopsPublicMap.querySourceFeatures('outline').map(f => f.properties.code)"
    )
    page.wait_for_function(f"({outline})().length > 0")
    assert "68" in page.evaluate(outline)
    expect(page.locator(".maplibregl-ctrl-attrib")).to_contain_text("CC BY-SA 4.0")
    screenshot(page, "public-map")


def test_a_step_taken_elsewhere_meanwhile_is_shown_as_the_reports_new_state(page, demo, problems):
    problems.allow(r"HTTP 409: .*/verify$")
    problems.allow(r"console: Failed to load resource: the server responded with a status of 409")
    code = submit_by_api(demo)
    log_in(page, "vanhanh", f"/reports?open={code}")
    drawer = page.get_by_test_id("report-drawer")
    drawer.locator('[data-action="verify"]').click()
    with staff(demo) as other_operator:
        r = other_operator.post(f"/api/field-reports/reports/{code}/verify", json={})
        assert r.status_code == 200, r.text
    drawer.get_by_test_id("form-verify").get_by_role("button", name="Xác nhận").click()
    expect(drawer.get_by_test_id("action-error")).to_have_text(
        "Phản ánh hiện ở trạng thái “Đã chuyển xử lý” — thao tác này không còn thực hiện được."
    )
    expect(drawer.get_by_test_id("status-badge")).to_have_text("Đã chuyển xử lý")
    expect(drawer.locator('[data-action="verify"]')).to_have_count(0)


def test_a_reason_is_required_before_routing_and_the_servers_limit_shows_at_the_field(
    page, demo, problems
):
    problems.allow(r"HTTP 422: .*/assign$")
    problems.allow(r"console: Failed to load resource: the server responded with a status of 422")
    code = submit_by_api(demo)
    with staff(demo) as http:
        assert http.post(f"/api/field-reports/reports/{code}/verify", json={}).status_code == 200
    log_in(page, "vanhanh", f"/reports?open={code}")
    drawer = page.get_by_test_id("report-drawer")
    drawer.locator('[data-action="assign"]').click()
    form = drawer.get_by_test_id("form-assign")
    form.get_by_role("button", name="Xác nhận").click()
    expect(form.locator("#act-reason-error")).to_have_text("Vui lòng nhập Lý do.")
    expect(form.locator("#act-agency-error")).to_have_text("Vui lòng nhập Cơ quan nhận.")
    form.get_by_label("Cơ quan nhận").select_option("CA-LD")
    form.get_by_label("Lý do").fill("x" * 2001)  # longer than the server accepts
    form.get_by_role("button", name="Xác nhận").click()
    expect(form.locator("#act-reason-error")).to_contain_text("at most 2000 characters")
    expect(form.get_by_label("Lý do")).to_have_attribute("aria-invalid", "true")


def test_the_queue_filters_and_pages_on_the_server_and_keeps_them_in_the_address(page, demo, queue):
    with staff(demo, "vanhanh") as http:
        waiting = http.get("/api/field-reports/reports?status=received&limit=1").json()["total"]
    assert waiting > 50
    log_in(page, "vanhanh", "/reports")
    page.get_by_label("Trạng thái").select_option("received")
    page.get_by_role("button", name="Lọc", exact=True).click()
    expect(page.get_by_test_id("report-total")).to_have_text(f"{waiting} phản ánh")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("status-badge").first).to_have_text("Mới tiếp nhận")
    first = rows.first.get_attribute("data-code")
    page.get_by_role("button", name="Trang sau").click()
    expect(page).to_have_url(re.compile(r"status=received.*offset=50|offset=50.*status=received"))
    expect(rows.first).not_to_have_attribute("data-code", first or "")
    page.reload()
    expect(page.get_by_label("Trạng thái")).to_have_value("received")
    expect(rows).to_have_count(waiting - 50)
    expect(page.get_by_text(re.compile(r"^Trang 2/"))).to_be_visible()
    screenshot(page, "reports-queue")


def test_a_duplicate_is_closed_against_the_suggested_original(page, demo):
    first = submit_by_api(demo, "Rác tràn ra lòng đường trước chợ Phan Thiết")
    second = submit_by_api(demo, "Chợ Phan Thiết: rác tràn ra đường, bốc mùi")
    with staff(demo, "vanhanh") as http:
        found = http.get(f"/api/field-reports/reports/{second}/duplicates")
    if found.status_code == 404:
        pytest.skip("this build has no duplicate suggestions (GET /reports/{code}/duplicates)")
    log_in(page, "vanhanh", f"/reports?open={second}")
    drawer = page.get_by_test_id("report-drawer")
    drawer.locator('[data-action="reject"]').click()
    form = drawer.get_by_test_id("form-reject")
    form.get_by_label("Trùng lặp").check()
    form.get_by_role("button", name=first).click()
    expect(form.get_by_label("Mã phản ánh gốc")).to_have_value(first)
    form.get_by_label("Lý do").fill("Cùng điểm rác trước chợ, đã có phản ánh trước")
    form.get_by_role("button", name="Xác nhận").click()
    expect(drawer.get_by_test_id("status-badge")).to_have_text("Trùng lặp")
    expect(drawer).to_contain_text(first)


def test_the_operator_sorts_the_queue_by_clicking_a_column_header(page, queue):
    log_in(page, "vanhanh", "/reports")
    page.get_by_label("Tìm theo nội dung, mã, địa chỉ").fill("tập kết rác tự phát")
    page.get_by_role("button", name="Lọc", exact=True).click()
    table = page.get_by_test_id("report-table")
    created = table.locator("th", has=page.locator('[data-sort="created_at"]'))
    status = table.locator("th", has=page.locator('[data-sort="status"]'))
    expect(created).to_have_attribute("aria-sort", "descending")
    status.get_by_role("button").click()
    expect(status).to_have_attribute("aria-sort", "ascending")
    expect(created).to_have_attribute("aria-sort", "none")
    expect(page).to_have_url(re.compile(r"sort=status"))
    first_badge = table.locator("tbody tr").first.locator("td").nth(5)
    expect(first_badge).to_have_text("Mới tiếp nhận")
    status.get_by_role("button").click()
    expect(status).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=-status"))
    expect(first_badge).not_to_have_text("Mới tiếp nhận")
