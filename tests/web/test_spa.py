"""The built web UI is served at / with client-route fallback, caching and the build's brotli /
gzip copies of its assets; the API keeps its JSON errors; without a build the landing page says
how to make one."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.app import create_app
from cityops.web import spa

BIG_SCRIPT = "console.log('cityops');\n" * 400
BIG_STYLE = "body { color: #e2e8f0; }\n" * 200
BROTLI_COPY = b"\x1b\x8f\x00brotli-bytes-as-built"  # sent as it is: never decoded by the server


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A build output like Vite's: two entries, a favicon, hashed assets."""
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>operator app</title>")
    (static / "public.html").write_text("<!doctype html><title>citizen pages</title>")
    (static / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (static / "assets" / "index-3f9a2c.js").write_text(BIG_SCRIPT)
    # the build's precompressed copies (vite.config.ts: precompress)
    (static / "assets" / "map-77aa01.js").write_text(BIG_SCRIPT)
    (static / "assets" / "map-77aa01.js.gz").write_bytes(gzip.compress(BIG_SCRIPT.encode(), 9))
    (static / "assets" / "map-77aa01.js.br").write_bytes(BROTLI_COPY)
    (static / "assets" / "map-77aa01.css").write_text(BIG_STYLE)
    (static / "assets" / "map-77aa01.css.gz").write_bytes(gzip.compress(BIG_STYLE.encode(), 9))
    monkeypatch.setattr(spa, "STATIC", static)
    return static


@pytest.fixture
def web(built, settings, database):
    with TestClient(create_app(settings, db=database)) as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/overview", "/reports/PA-2026-0001", "/admin/users/3"])
def test_client_routes_get_the_operator_app_revalidated_each_time(web, path):
    r = web.get(path)
    assert r.status_code == 200
    assert "operator app" in r.text
    assert r.headers["cache-control"] == "no-cache"


def test_public_routes_get_the_citizen_entry(web):
    for path in ("/public", "/public/track/PA-2026-0001"):
        r = web.get(path)
        assert r.status_code == 200 and "citizen pages" in r.text


def test_hashed_assets_are_cached_for_a_year_and_gzipped(web):
    r = web.get("/assets/index-3f9a2c.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.text == BIG_SCRIPT
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip"


def test_a_client_accepting_brotli_gets_the_builds_brotli_copy_as_it_is(web, built):
    r = web.get("/assets/map-77aa01.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "br"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.content == BROTLI_COPY  # no second compression on top


def test_a_gzip_only_client_gets_the_level_9_copy_made_at_build_time(web, built):
    for accept in ("gzip", "gzip, br;q=0"):
        r = web.get("/assets/map-77aa01.js", headers={"Accept-Encoding": accept})
        assert r.headers["content-encoding"] == "gzip"
        assert r.text == BIG_SCRIPT
        size = (built / "assets" / "map-77aa01.js.gz").stat().st_size
        assert int(r.headers["content-length"]) == size  # the stored bytes, not a new gzip
    style = web.get("/assets/map-77aa01.css", headers={"Accept-Encoding": "br, gzip"})
    assert style.headers["content-encoding"] == "gzip"  # no .br copy of it: the next best
    assert style.headers["content-type"].startswith("text/css") and style.text == BIG_STYLE


def test_a_client_accepting_no_compression_gets_the_plain_file(web):
    r = web.get("/assets/map-77aa01.js", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert r.text == BIG_SCRIPT and r.headers["vary"] == "Accept-Encoding"
    head = web.head("/assets/map-77aa01.js", headers={"Accept-Encoding": "br"})
    assert head.status_code == 200 and head.headers["content-encoding"] == "br"
    assert int(head.headers["content-length"]) == len(BROTLI_COPY)


def test_top_level_files_are_served_and_missing_files_are_404_not_the_app(web):
    assert web.get("/favicon.svg").text.startswith("<svg")
    assert web.get("/robots.txt").status_code == 404
    missing = web.get("/assets/gone-000000.js")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/nothing-here", "/ngsi-ld/v1/nothing", "/open311/nothing", "/cap/x", "/metrics/x"]
)
def test_api_prefixes_keep_their_json_404(web, path):
    r = web.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")


def test_docs_health_and_openapi_are_not_shadowed(web):
    assert "swagger" in web.get("/docs").text.lower()
    assert web.get("/healthz").json() == {"status": "ok"}
    assert web.get("/openapi.json").json()["info"]["title"] == "CityOps API"


def test_a_write_to_a_client_route_is_not_answered_with_the_app(web):
    r = web.post("/overview", json={})
    assert r.status_code in (404, 405)
    assert r.headers["content-type"].startswith("application/json")


def test_without_a_build_the_landing_page_says_how_to_build_it(tmp_path, monkeypatch, client):
    monkeypatch.setattr(spa, "STATIC", tmp_path / "not-built")
    with TestClient(create_app(client.app.state.settings, db=client.app.state.db)) as c:
        page = c.get("/")
        assert page.status_code == 200 and "make frontend" in page.text
        assert c.get("/overview").status_code == 404  # no app to fall back to


def test_ui_config_tells_the_province_the_map_background_and_the_live_events(
    settings, database, factory, built
):
    factory.unit("68", "Tỉnh Lâm Đồng", level="province")
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    web_settings = settings.web.model_copy(update={"map_tile_url": tiles})
    custom = settings.model_copy(update={"web": web_settings})
    with TestClient(create_app(custom, db=database)) as c:
        config = c.get("/api/ui/config").json()  # readable before login (the login page uses it)
    assert config["province_name"] == "Tỉnh Lâm Đồng"
    assert config["map"]["tile_url"] == tiles
    assert "context.entity_changed" in config["live_events"]
    assert {"auth", "kpis", "live", "units"} <= set(config["apis"])


def test_ui_config_lists_the_api_families_without_building_the_openapi_document(web):
    config = web.get("/api/ui/config").json()
    assert {"auth", "kpis", "live", "units", "ui"} <= set(config["apis"])
    assert web.app.openapi_schema is None  # ~1 s of work the login page no longer waits for
    documented = web.get("/openapi.json").json()["paths"]
    families = {p.split("/")[2].split(".")[0] for p in documented if p.startswith("/api/")}
    assert config["apis"] == sorted(families)  # the same families the API documents


def test_a_server_prepares_its_route_table_at_start_up_not_on_the_first_page_load(
    settings, database, built
):
    served = settings.model_copy(update={"env": "demo"})
    app = create_app(served, db=database)
    assert getattr(app.state, "ui_api_families", None) is None
    with TestClient(app) as c:
        prepared = app.state.ui_api_families  # before any request
        assert "auth" in prepared and "units" in prepared
        assert c.get("/api/ui/config").json()["apis"] == prepared
