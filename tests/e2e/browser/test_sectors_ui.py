"""An operator reads the sector pages in Chromium (public services, socio-economic, health,
education, tourism): each shows the demo's headline figures as the API gives them, the period
picker and the unit drill-down change the public-service counters, and the Excel exchange shows
row errors while keeping the good rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from e2e.browser.browser_helpers import DEMO_PASSWORD, log_in, screenshot

SLOW = 30_000  # software WebGL on a busy 2-core machine can be slow


def vi(n: float) -> str:
    """Write a whole number the Vietnamese way (21.245)."""
    return f"{round(n):,}".replace(",", ".")


def vi_dec(x: float, digits: int = 1) -> str:
    """Write a number with at most `digits` decimals the Vietnamese way (99,8; 20)."""
    return f"{round(x, digits):g}".replace(".", ",")


@pytest.fixture(scope="module")
def api(demo: Any) -> Iterator[httpx.Client]:
    """The demo's API, logged in as the IOC operator (what the page should show)."""
    with httpx.Client(base_url=demo.url, timeout=30) as http:
        login = {"username": "vanhanh", "password": DEMO_PASSWORD}
        assert http.post("/api/auth/login", json=login).status_code == 200
        yield http


def test_public_services_page_shows_the_one_stop_counters_index_and_near_due_dossiers(page, api):
    counters = api.get("/api/public-services/counters").json()
    index = api.get("/api/public-services/index-766").json()
    near_due = api.get("/api/public-services/near-due", params={"limit": 20}).json()
    assert counters["received"] > 0 and near_due["total"] > 0  # the demo has dossiers
    log_in(page, path="/sectors/public-services")
    view = page.get_by_test_id("sector-public-services")
    expect(view.get_by_role("heading", name="Dịch vụ công — một cửa")).to_be_visible()
    for testid, key in [
        ("ps-received", "received"),
        ("ps-carried-over", "carried_over"),
        ("ps-to-process", "to_process"),
        ("ps-late", "in_progress_late"),
        ("ps-near-late", "in_progress_near_late"),
        ("ps-not-due", "in_progress_not_due"),
        ("ps-early", "processed_early"),
        ("ps-on-time", "processed_on_time"),
        ("ps-processed-late", "processed_late"),
    ]:
        expect(view.get_by_test_id(testid)).to_contain_text(vi(counters[key]))
    expect(view.get_by_test_id("ps-processed")).to_have_text(vi(counters["processed"]))
    expect(view.get_by_test_id("ps-on-time-rate")).to_contain_text(
        f"{vi_dec(counters['on_time_rate'])} %"
    )
    total = vi_dec(index["total"], 2)
    expect(view.get_by_test_id("ps-index-total")).to_contain_text(f"Tổng điểm: {total} / 100")
    expect(view.get_by_test_id("ps-index")).to_contain_text(index["groups"][0]["label_vi"])
    expect(view.get_by_test_id("ps-index-note")).to_contain_text("ước tính của CityOps")
    rows = view.get_by_test_id("ps-near-due").locator("tbody tr")
    expect(rows).to_have_count(len(near_due["items"]))
    expect(rows.first).to_contain_text(near_due["items"][0]["external_id"])
    expect(view.get_by_test_id("ps-slowest").locator("tbody tr").first).to_be_visible()
    screenshot(page, "sector-public-services")


def test_choosing_a_quarter_and_then_a_commune_changes_the_public_service_counters(page, api):
    year = api.get("/api/public-services/counters").json()["period"]
    quarter = api.get("/api/public-services/counters", params={"period": f"{year}-Q1"}).json()
    log_in(page, path="/sectors/public-services")
    view = page.get_by_test_id("sector-public-services")
    expect(view.get_by_test_id("ps-as-of")).to_contain_text(year)
    picker = view.get_by_test_id("period-picker")
    picker.get_by_label("Loại kỳ").select_option("quarter")
    picker.get_by_label("Quý", exact=True).select_option("1")
    expect(view.get_by_test_id("ps-as-of")).to_contain_text(f"{year}-Q1")
    expect(view.get_by_test_id("ps-received")).to_contain_text(vi(quarter["received"]))
    expect(view.get_by_test_id("ps-processed")).to_have_text(vi(quarter["processed"]))
    commune = near_commune(api)
    numbers = api.get(
        "/api/public-services/counters", params={"period": f"{year}-Q1", "unit": commune["code"]}
    ).json()
    view.get_by_test_id("unit-picker").get_by_role("combobox").select_option(commune["code"])
    expect(view.get_by_test_id("unit-current")).to_have_text(commune["name"])
    expect(view.get_by_test_id("ps-received")).to_contain_text(vi(numbers["received"]))
    expect(view.get_by_test_id("ps-processed")).to_have_text(vi(numbers["processed"]))
    screenshot(page, "sector-public-services-commune-quarter")
    view.get_by_role("button", name="Lâm Đồng").click()  # back up to the province
    expect(view.get_by_test_id("ps-received")).to_contain_text(vi(quarter["received"]))


@pytest.mark.parametrize(
    ("path", "figure"),
    [
        ("public-services", "ps-received"),
        ("socioeconomic", "se-on-track"),
        ("health", "health-beds"),
        ("education", "edu-pupils"),
        ("tourism", "tour-arrivals"),
    ],
)
def test_each_sector_page_fits_a_390px_phone_without_sideways_scrolling(page, path, figure):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, path=f"/sectors/{path}")
    expect(page.get_by_test_id(figure)).to_be_visible()
    page.wait_for_load_state("networkidle")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(page, f"sector-{path}-phone")


def test_a_commune_operator_sees_only_the_counters_of_their_commune(page, demo):
    with httpx.Client(base_url=demo.url, timeout=30) as http:
        login = {"username": "muine", "password": DEMO_PASSWORD}
        assert http.post("/api/auth/login", json=login).status_code == 200
        mine = http.get("/api/public-services/counters").json()
        province = http.get("/api/public-services/counters", params={"unit": "68"})
    assert mine["unit_code"] == "22918" and province.status_code == 404
    log_in(page, "muine", "/sectors/public-services")
    view = page.get_by_test_id("sector-public-services")
    expect(view.get_by_test_id("unit-current")).to_have_text("Phường Mũi Né")
    expect(view.get_by_test_id("ps-received")).to_contain_text(vi(mine["received"]))
    expect(view.get_by_test_id("unit-picker").get_by_role("button")).to_have_count(0)


def near_commune(api: httpx.Client) -> dict[str, str]:
    """A commune that has dossiers (the one of the most urgent dossier)."""
    code = api.get("/api/public-services/near-due", params={"limit": 1}).json()["items"][0]
    units = api.get("/api/units", params={"limit": 1000}).json()["items"]
    return next(u for u in units if u["code"] == code["unit_code"])


def test_socioeconomic_page_shows_indicators_against_target_and_their_trend(page, api):
    overview = api.get("/api/socioeconomic/overview").json()
    items = [i for g in overview["groups"] for i in g["items"]]
    log_in(page, path="/sectors/socioeconomic")
    view = page.get_by_test_id("sector-socioeconomic")
    expect(view.get_by_test_id("se-on-track")).to_have_text(
        f"{overview['on_track']}/{overview['judged']} chỉ tiêu đạt kế hoạch"
    )
    table = view.get_by_test_id("se-indicators")
    expect(table.locator("tr[data-indicator]")).to_have_count(len(items))
    for item in items:
        row = table.locator(f'tr[data-indicator="{item["indicator"]}"]')
        expect(row).to_contain_text(item["name_vi"])
        expect(row).to_contain_text(item["status_label_vi"])
    red = next(i for i in items if i["status"] == "red")
    table.locator(f'tr[data-indicator="{red["indicator"]}"]').click()
    detail = view.get_by_test_id("se-detail")
    expect(detail.get_by_role("heading", name=f"Diễn biến: {red['name_vi']}")).to_be_visible()
    expect(detail.get_by_test_id("timeseries")).to_be_visible()
    expect(detail.get_by_test_id("se-unreported")).to_contain_text("đơn vị chưa có số liệu")
    screenshot(page, "sector-socioeconomic")


def test_uploading_indicator_figures_lands_the_good_rows_and_lists_the_bad_ones(page, api):
    budget = api.get("/api/indicators/BUDGET_REVENUE/values", params={"unit": "68"}).json()
    period = max(v["period"] for v in budget["items"])
    log_in(page, path="/sectors/socioeconomic")
    exchange = page.get_by_test_id("se-import")
    with page.expect_download() as download:
        exchange.get_by_test_id("se-template").click()
    agency = exchange.get_by_test_id("se-agency").input_value()
    month = exchange.get_by_label("Kỳ báo cáo (tháng)").input_value()
    assert download.value.suggested_filename == f"chi-tieu-{agency}-{month}.xlsx"
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"  # an .xlsx is a zip
    csv = (
        "indicator_code,indicator_name,unit_code,unit_name,period,value,note\n"
        f"BUDGET_REVENUE,,68,,{period},2999.5,browser test\n"
        f"BUDGET_REVENUE,,68,,{period},not a number,\n"
    )
    exchange.get_by_label("Tệp đã điền (.xlsx hoặc .csv)").set_input_files(
        files=[{"name": "chi-tieu.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    exchange.get_by_role("button", name="Tải lên").click()
    expect(exchange.get_by_test_id("se-import-result")).to_have_text(
        "Đã nhập 1 dòng, bỏ qua 0 dòng để trống, 1 dòng có lỗi."
    )
    errors = exchange.get_by_test_id("se-import-errors").locator("tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first.locator("td").first).to_have_text("3")
    expect(errors.first).to_contain_text("value")
    now = api.get(
        "/api/indicators/BUDGET_REVENUE/values", params={"unit": "68", "period": period}
    ).json()["items"]
    assert [v["value"] for v in now if v["is_current"]] == [2999.5]
    screenshot(page, "sector-socioeconomic-import")


def test_health_page_maps_the_facilities_and_highlights_outbreak_signals(page, api):
    occupancy = api.get("/api/health/occupancy").json()
    facilities = api.get("/api/health/facilities").json()["features"]
    signals = api.get("/api/health/signals").json()["items"]
    coverage = api.get("/api/health/vaccination").json()["items"][0]
    assert signals, "the demo raises outbreak signals"
    log_in(page, path="/sectors/health")
    view = page.get_by_test_id("sector-health")
    expect(view.get_by_test_id("health-beds")).to_contain_text(vi(occupancy["beds"]))
    expect(view.get_by_test_id("health-occupied")).to_contain_text(vi(occupancy["occupied_beds"]))
    rate = vi_dec(occupancy["occupancy_rate"])
    expect(view.get_by_test_id("health-rate")).to_contain_text(f"{rate} %")
    expect(view.get_by_test_id("health-vaccination")).to_contain_text(
        f"{vi_dec(coverage['value'])} %"
    )
    expect(view.get_by_test_id("health-vaccination")).to_contain_text(coverage["status_label_vi"])
    expect(view.get_by_test_id("sector-map")).to_have_attribute(
        "data-ready", str(len(facilities)), timeout=SLOW
    )
    listed = view.get_by_test_id("health-signals").locator("li")
    expect(listed).to_have_count(len(signals))
    expect(listed.first).to_contain_text(signals[0]["unit_name"])
    latest = signals[0]
    cell = view.get_by_test_id("health-cases").locator(f'tr[data-unit="{latest["unit_code"]}"]')
    expect(cell.locator("td.outbreak").first).to_be_visible()
    view.get_by_test_id("health-disease").select_option(latest["disease"])
    expect(cell.locator("td.outbreak").first).to_be_visible()
    screenshot(page, "sector-health")


def test_education_page_shows_schools_pupils_teachers_and_results(page, api):
    years = api.get("/api/education/summary", params={"by": "year"}).json()["items"]
    year = [y for y in years if y["pass_rate"] is not None][-1]
    summary = api.get("/api/education/summary", params={"year": year["key"]}).json()
    schools = api.get("/api/education/schools").json()["features"]
    log_in(page, path="/sectors/education")
    view = page.get_by_test_id("sector-education")
    expect(view.get_by_test_id("edu-year")).to_have_value(year["key"])
    expect(view.get_by_test_id("edu-pupils")).to_contain_text(vi(summary["total"]["pupils"]))
    expect(view.get_by_test_id("edu-teachers")).to_contain_text(vi(summary["total"]["teachers"]))
    ratio = vi_dec(summary["total"]["pupils_per_teacher"])
    expect(view.get_by_test_id("edu-ratio")).to_have_text(f"{ratio}Học sinh/giáo viên")
    expect(view.get_by_test_id("edu-table").locator("tbody tr")).to_have_count(
        len(summary["items"])
    )
    expect(view.get_by_test_id("sector-map")).to_have_attribute(
        "data-ready", str(len(schools)), timeout=SLOW
    )
    screenshot(page, "sector-education")


def test_tourism_page_shows_arrivals_against_last_year_and_places_on_the_map(page, api):
    stats = api.get("/api/tourism/stats").json()
    places = api.get("/api/tourism/places").json()["features"]
    months = [m for m in stats["months"] if m["total"] is not None]
    log_in(page, path="/sectors/tourism")
    view = page.get_by_test_id("sector-tourism")
    expect(view.get_by_test_id("tour-arrivals")).to_contain_text(
        vi(sum(m["total"] for m in months))
    )
    expect(view.get_by_test_id("tour-last-year")).to_contain_text(
        vi(sum(m["total_last_year"] for m in months))
    )
    expect(view.get_by_test_id("tour-months").locator("tbody tr")).to_have_count(
        len(stats["months"])
    )
    expect(view.get_by_test_id("sector-map")).to_have_attribute(
        "data-ready", str(len(places)), timeout=SLOW
    )
    screenshot(page, "sector-tourism")


def test_sector_pages_are_reached_from_the_menu_and_switch_to_english(page):
    log_in(page)
    page.get_by_role("link", name="Lĩnh vực").click()
    tabs = page.get_by_test_id("sector-tabs")
    for name in ["Dịch vụ công", "Kinh tế - xã hội", "Y tế", "Giáo dục", "Du lịch"]:
        expect(tabs.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("heading", name="Dịch vụ công — một cửa")).to_be_visible()
    tabs.get_by_role("link", name="Y tế").click()
    expect(page.get_by_role("heading", name="Y tế", exact=True)).to_be_visible()
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name="Health", exact=True)).to_be_visible()
    expect(tabs.get_by_role("link", name="Public services")).to_be_visible()
    page.get_by_test_id("lang-vi").click()
