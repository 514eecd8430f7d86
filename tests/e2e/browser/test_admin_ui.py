"""An administrator in Chromium: creates a user (errors at the fields), changes the role,
disables and resets the password; creates an API key shown once and revokes it; reads the
audit log, the unit tree and the modules."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from e2e.browser.browser_helpers import log_in, screenshot


def test_the_admin_creates_a_user_changes_the_role_resets_the_password_and_disables_it(
    page, demo, problems
):
    problems.allow(r"HTTP 422: .*/api/users$")
    problems.allow(r"console: Failed to load resource: the server responded with a status of 422")
    log_in(page, "admin", "/admin")
    panel = page.get_by_test_id("users-panel")
    expect(panel.locator('[data-user="vanhanh"]')).to_be_visible()
    panel.get_by_test_id("user-new").click()
    form = panel.get_by_test_id("user-form")
    form.get_by_role("button", name="Lưu").click()
    expect(form.locator("#username-error")).to_have_text("Vui lòng nhập Tên đăng nhập.")
    form.get_by_label("Tên đăng nhập").fill("tran van b")  # spaces: refused by the server
    form.get_by_label("Họ tên").fill("Trần Văn Bảo")
    form.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill("mat-khau-tam-2026")
    form.get_by_label("Mã địa bàn phụ trách").fill("68")
    form.get_by_role("button", name="Lưu").click()
    expect(form.locator("#username-error")).to_contain_text("should match pattern")
    form.get_by_label("Tên đăng nhập").fill("tranvanbao")
    form.get_by_role("button", name="Lưu").click()
    row = panel.locator('[data-user="tranvanbao"]')
    expect(row).to_contain_text("Trần Văn Bảo")
    row.get_by_label("Vai trò tranvanbao").select_option("leader")
    row.get_by_role("button", name="Đặt lại mật khẩu").click()
    reset = panel.get_by_test_id("reset-form")
    reset.get_by_label("Mật khẩu mới").fill("mat-khau-moi-2026")
    reset.get_by_role("button", name="Lưu").click()
    expect(panel.get_by_test_id("admin-message")).to_have_text(
        "Đã đặt lại mật khẩu cho tranvanbao."
    )
    login = {"username": "tranvanbao", "password": "mat-khau-moi-2026"}
    me = httpx.Client(base_url=demo.url, timeout=10)
    assert me.post("/api/auth/login", json=login).status_code == 200
    assert me.get("/api/auth/me").json()["role"] == "leader"
    row.get_by_role("button", name="Khóa tài khoản").click()
    expect(row).to_contain_text("(Đã khóa)")
    assert httpx.post(f"{demo.url}/api/auth/login", json=login).status_code == 401
    screenshot(page, "admin-users")


def test_an_api_key_is_shown_once_works_and_stops_working_when_revoked(page, demo):
    log_in(page, "admin", "/admin?tab=keys")
    panel = page.get_by_test_id("keys-panel")
    panel.get_by_label("Tên khóa").fill("Cổng dữ liệu quan trắc")
    panel.get_by_role("button", name="Thêm mới").click()
    key = panel.get_by_test_id("new-key").inner_text()
    assert key.startswith("cok_")
    me = httpx.get(f"{demo.url}/api/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["name"] == "Cổng dữ liệu quan trắc"
    row = panel.locator('[data-key="Cổng dữ liệu quan trắc"]')
    expect(row).to_contain_text(key[4:12])  # the prefix after "cok_", never the key
    expect(row).not_to_contain_text(key)
    screenshot(page, "admin-keys")
    row.get_by_role("button", name="Thu hồi").click()
    expect(row).to_contain_text("Đã thu hồi")
    assert httpx.get(f"{demo.url}/api/auth/me", headers={"X-API-Key": key}).status_code == 401
    page.reload()
    expect(page.get_by_test_id("new-key")).to_have_count(0)


def test_the_audit_log_filters_on_the_server_and_the_tree_and_modules_are_listed(page):
    log_in(page, "admin", "/admin?tab=audit")
    panel = page.get_by_test_id("audit-panel")
    panel.get_by_label("Thao tác").fill("user.create")
    panel.get_by_role("button", name="Lọc").click()
    expect(panel.locator("tbody tr").first).to_contain_text("user.create")
    actions = panel.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert actions and all(a == "user.create" for a in actions), actions
    screenshot(page, "admin-audit")
    page.get_by_role("tab", name="Địa bàn").click()
    expect(page.get_by_test_id("units-panel").locator('[data-unit="68"]')).to_contain_text(
        "Lâm Đồng"
    )
    page.get_by_role("tab", name="Phân hệ").click()
    modules = page.get_by_test_id("modules-panel")
    expect(modules.locator('[data-module="field_reports"]')).to_contain_text("Phản ánh hiện trường")
