"""One-request submission with photos (multipart), and thumbnails made on first view."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from PIL import ExifTags, Image
from sqlalchemy import func, select

from cityops.core.audit import AuditEntry
from cityops.core.files import FileStore
from cityops.modules.field_reports import photos
from cityops.modules.field_reports.models import Photo, Report

from .conftest import MUI_NE, act
from .test_photos import image_bytes, jpeg_with_gps

API = "/api/field-reports"
REPORT = {
    "category_code": "PA-DUONG",
    "description": "Ổ gà lớn trước số 12 đường Nguyễn Đình Chiểu",
    "lat": MUI_NE[0],
    "lon": MUI_NE[1],
    "attributes": {"SIZE": "large"},
}


def send(client, files, report=None, headers=None):
    """Submit a report and its photos in one multipart/form-data request."""
    parts = [("report", (None, json.dumps(report or REPORT), "application/json"))]
    parts += [("photos", f) for f in files]
    return client.post(f"{API}/public/reports", files=parts, headers=headers or {})


def stored_files(settings) -> list[Path]:
    """Every file in the instance's file store."""
    root = Path(settings.data_dir) / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def counts(database) -> tuple[int, int]:
    with database.session() as s:
        reports = s.scalar(select(func.count()).select_from(Report))
        return reports, s.scalar(select(func.count()).select_from(Photo))


def test_a_citizen_sends_a_report_with_two_photos_in_one_request(client, world, database):
    files = [
        ("o-ga.jpg", jpeg_with_gps(), "image/jpeg"),
        ("toan-canh.png", image_bytes("PNG"), "image/png"),
    ]
    response = send(client, files)
    assert response.status_code == 201, response.text
    code = response.json()["tracking_code"]
    report = client.get(f"{API}/reports/{code}", headers=world.headers["operator"]).json()
    assert [p["content_type"] for p in report["photos"]] == ["image/jpeg", "image/png"]
    assert (report["photos"][0]["width"], report["photos"][0]["height"]) == (480, 640)
    stored = client.get(report["photos"][0]["url"], headers=world.headers["operator"]).content
    assert Image.open(io.BytesIO(stored)).getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert "Điện thoại".encode() not in stored
    with database.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == code))
        assert sorted(actions) == [
            "field_report.create",
            "field_report.photo",
            "field_report.photo",
        ]


def test_a_bad_photo_is_named_and_nothing_is_stored(client, world, database, settings):
    before = counts(database), stored_files(settings)
    files = [
        ("tot.jpg", image_bytes("JPEG"), "image/jpeg"),
        ("dong.gif", image_bytes("GIF"), "image/gif"),
    ]
    response = send(client, files)
    assert response.status_code == 415, response.text
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert body["file"] == "dong.gif" and body["index"] == 2
    assert "Photo 2 (dong.gif)" in body["detail"] and "JPEG, PNG or WebP" in body["detail"]
    assert (counts(database), stored_files(settings)) == before


def test_an_oversize_photo_is_413_naming_the_file(client, world, database, settings):
    limited = settings.field_reports.model_copy(update={"max_photo_bytes": 20_000})
    client.app.state.settings = settings.model_copy(update={"field_reports": limited})
    before = counts(database)
    big = image_bytes("PNG", (400, 400)) + b"\0" * 20_000
    response = send(client, [("lon.png", big, "image/png")])
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"
    assert "Photo 1 (lon.png)" in response.json()["detail"]
    assert counts(database) == before


def test_more_than_five_photos_are_refused_before_anything_is_stored(client, world, database):
    before = counts(database)
    files = [(f"{i}.jpg", image_bytes("JPEG", (40 + i, 40)), "image/jpeg") for i in range(6)]
    response = send(client, files)
    assert response.status_code == 422 and response.json()["code"] == "too_many_photos"
    assert counts(database) == before


def test_an_invalid_report_part_is_422_pointing_at_the_field(client, world, database):
    before = counts(database)
    response = send(client, [("a.jpg", image_bytes("JPEG"), "image/jpeg")], REPORT | {"lat": 200})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "report", "lat"]
    missing = client.post(
        f"{API}/public/reports", files=[("photos", ("a.jpg", image_bytes("JPEG"), "image/jpeg"))]
    )
    assert missing.status_code == 422 and missing.json()["code"] == "report_missing"
    odd = client.post(f"{API}/public/reports", files=[("report", (None, "{}")), ("x", (None, "1"))])
    assert odd.status_code == 400 and "Unexpected part 'x'" in odd.json()["detail"]
    assert counts(database) == before


def test_the_json_submission_is_unchanged(client, world):
    response = client.post(f"{API}/public/reports", json=REPORT)
    assert response.status_code == 201 and response.json()["tracking_code"].startswith("PA-")
    malformed = client.post(
        f"{API}/public/reports", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422 and malformed.json()["code"] == "malformed_json"


def test_a_bad_api_key_is_refused_before_any_photo_is_stored(client, world, settings):
    before = stored_files(settings)
    files = [("a.jpg", image_bytes("JPEG"), "image/jpeg")]
    response = send(client, files, headers={"X-API-Key": "cok_not-a-real-key"})
    assert response.status_code == 401 and stored_files(settings) == before


def test_openapi_documents_json_and_multipart_submissions(client):
    body = client.get("/openapi.json").json()["paths"][f"{API}/public/reports"]["post"]
    content = body["requestBody"]["content"]
    assert content["application/json"]["schema"]["properties"]["category_code"]
    form = content["multipart/form-data"]
    assert form["schema"]["properties"]["photos"]["items"]["format"] == "binary"
    assert form["encoding"]["report"]["contentType"] == "application/json"


def test_thumbnails_are_made_on_first_view_kept_and_served_again(client, world, settings):
    photo_bytes = image_bytes("JPEG", (1000, 600))
    code = send(client, [("a.jpg", photo_bytes, "image/jpeg")]).json()["tracking_code"]
    assert not [p for p in stored_files(settings) if p.name.endswith(".thumb320")]
    act(client, world, "operator", code, "verify")
    photo = client.get(f"{API}/public/reports/{code}").json()["photos"][0]
    first = client.get(photo["thumb_url"])
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(first.content)).size == (320, 192)
    kept = [p for p in stored_files(settings) if p.name.endswith(".thumb320")]
    assert len(kept) == 1 and kept[0].read_bytes() == first.content
    made_at = kept[0].stat().st_mtime_ns
    operator = client.get(
        f"{API}/reports/{code}/photos/{photo['id']}?thumb=true", headers=world.headers["operator"]
    )
    assert operator.content == first.content == client.get(photo["thumb_url"]).content
    assert kept[0].stat().st_mtime_ns == made_at  # served from the store, not made again


def test_concurrent_first_views_keep_one_complete_thumbnail(tmp_path):
    store = FileStore(tmp_path)
    ref = store.save(image_bytes("JPEG", (1200, 800)), "image/jpeg")
    made, results, barrier = [], [], threading.Barrier(6)

    def make(data: bytes) -> bytes:
        made.append(1)
        return photos.thumbnail(data, "image/jpeg")

    def view() -> None:
        barrier.wait()
        results.append(store.derived(ref.key, photos.THUMB, make))

    threads = [threading.Thread(target=view) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and len(set(results)) == 1
    assert Image.open(io.BytesIO(results[0])).size == (320, 213)
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == [ref.key, f"{ref.key}.{photos.THUMB}"]  # no temporary or doubled files
    assert store.delete(ref.key) and not list(tmp_path.rglob("*.thumb320"))
    assert made  # made at least once, on first use


def test_a_gateways_revoked_key_is_refused_at_once_though_its_submissions_were_cached(
    client, world, factory
):
    admin = factory.headers(factory.user("admin"))
    created = client.post(
        "/api/api-keys",
        json={"name": "Cổng Zalo OA", "role": "integrator"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    gateway = {"X-API-Key": created.json()["key"]}
    for _ in range(3):  # the key's principal is now cached
        assert send(client, [], headers=gateway).status_code == 201
    assert client.delete(f"/api/api-keys/{created.json()['id']}", headers=admin).status_code == 200
    before = counts(client.app.state.db)
    refused = send(client, [("o-ga.jpg", jpeg_with_gps(), "image/jpeg")], headers=gateway)
    assert refused.status_code == 401, refused.text
    assert counts(client.app.state.db) == before
