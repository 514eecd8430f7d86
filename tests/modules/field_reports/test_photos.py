"""Photos: formats, size limits, metadata stripped, thumbnails, the file store underneath."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from cityops.core.errors import NotFound
from cityops.core.files import FileStore

from .conftest import act, submit

API = "/api/field-reports"


def jpeg_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG carrying EXIF GPS coordinates, a camera model and an orientation."""
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Điện thoại của người dân"
    exif[ExifTags.Base.Orientation] = 6  # rotated: the stored photo must come out upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (10.0, 57.0, 1.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (108.0, 16.0, 48.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (1000, 600)) -> bytes:
    """An image of the given format."""
    out = io.BytesIO()
    Image.new("RGB", size, (10, 90, 200)).save(out, fmt)
    return out.getvalue()


def upload(client, w, code, data, who="operator", name="anh.jpg", mime="image/jpeg"):
    return client.post(
        f"{API}/reports/{code}/photos", files={"file": (name, data, mime)}, headers=w.headers[who]
    )


def test_exif_gps_is_stripped_from_photos(client, world):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    code = submit(client)["tracking_code"]
    response = upload(client, world, code, original)
    assert response.status_code == 201, response.text
    photo = response.json()
    stored = client.get(photo["url"], headers=world.headers["operator"])
    assert stored.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(stored.content))
    assert dict(image.getexif()) == {}
    assert b"Exif" not in stored.content and b"GPS" not in stored.content
    assert "Điện thoại".encode() not in stored.content
    assert (photo["width"], photo["height"]) == (480, 640)  # turned upright, then stripped


def test_thumbnail_is_320_pixels_on_its_longest_side(client, world):
    code = submit(client)["tracking_code"]
    photo = upload(client, world, code, image_bytes("PNG"), name="a.png", mime="image/png").json()
    assert photo["content_type"] == "image/png"
    thumb = client.get(photo["thumb_url"], headers=world.headers["operator"])
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 192)


def test_only_jpeg_png_and_webp_are_accepted(client, world):
    code = submit(client)["tracking_code"]
    webp = upload(client, world, code, image_bytes("WEBP"), name="a.webp", mime="image/webp")
    assert webp.status_code == 201 and webp.json()["content_type"] == "image/webp"
    gif = upload(client, world, code, image_bytes("GIF"), name="a.gif", mime="image/gif")
    assert gif.status_code == 415 and "JPEG, PNG or WebP" in gif.json()["detail"]
    text = upload(client, world, code, b"not an image at all", name="a.jpg")
    assert text.status_code == 415


def test_a_photo_over_the_size_limit_is_413(client, world, settings):
    limited = settings.field_reports.model_copy(update={"max_photo_bytes": 20_000})
    client.app.state.settings = settings.model_copy(update={"field_reports": limited})
    code = submit(client)["tracking_code"]
    big = upload(client, world, code, image_bytes("PNG", (400, 400)) + b"\0" * 20_000)
    assert big.status_code == 413 and big.json()["code"] == "payload_too_large"


def test_a_report_takes_at_most_five_photos(client, world):
    code = submit(client)["tracking_code"]
    for i in range(5):
        assert upload(client, world, code, image_bytes("JPEG", (50 + i, 50))).status_code == 201
    sixth = upload(client, world, code, image_bytes("JPEG", (99, 50)))
    assert sixth.status_code == 409 and sixth.json()["code"] == "too_many_photos"


def test_citizen_attaches_a_photo_that_is_public_once_verified(client, world):
    receipt = submit(client)
    code = receipt["tracking_code"]
    files = {"file": ("a.jpg", jpeg_with_gps(), "image/jpeg")}
    wrong = client.post(
        f"{API}/public/reports/{code}/photos", data={"secret": "x" * 12}, files=files
    )
    assert wrong.status_code == 404
    ok = client.post(
        f"{API}/public/reports/{code}/photos", data={"secret": receipt["secret"]}, files=files
    )
    assert ok.status_code == 201, ok.text
    url = ok.json()["url"]
    assert client.get(url).status_code == 404  # not yet verified
    act(client, world, "operator", code, "verify")
    assert client.get(url).headers["content-type"] == "image/jpeg"
    assert client.get(f"/open311/v2/requests/{code}.json").json()[0]["media_url"].endswith(url)


def test_agency_of_another_ward_cannot_add_photos(client, world):
    code = submit(client)["tracking_code"]
    act(client, world, "operator", code, "verify")
    assert upload(client, world, code, image_bytes("JPEG"), who="ward_b_staff").status_code == 404
    assert upload(client, world, code, image_bytes("JPEG"), who="ward_a_staff").status_code == 201


def test_file_store_names_files_by_their_content(tmp_path):
    store = FileStore.for_data_dir(tmp_path)
    first = store.save(b"photo bytes", "image/jpeg")
    again = store.save(b"photo bytes", "image/jpeg")
    assert first == again and len(first.key) == 64
    assert store.path(first.key).parent.parent.parent == tmp_path / "files"
    assert store.read(first.key) == b"photo bytes"
    assert store.delete(first.key) and not store.exists(first.key)
    assert not store.delete(first.key)
    with pytest.raises(NotFound):
        store.read(first.key)
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
