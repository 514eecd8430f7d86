"""Photos keep their pixels and lose their metadata: lossless JPEG stripping, thumbnails."""

from __future__ import annotations

import io
import random

import pytest
from PIL import ExifTags, Image

from cityops.modules.field_reports import photos

from .conftest import submit
from .test_photos import upload

SECRET_PLACE = "Nhà riêng số 7, hẻm 12"


def camera_jpeg(size: tuple[int, int] = (1200, 900), orientation: int = 1) -> bytes:
    """A phone-like JPEG: noisy pixels, EXIF with GPS and a camera, XMP, a comment, a trailer."""
    rng = random.Random(size[0])
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Điện thoại của người dân"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (10.0, 57.0, 1.5)
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>{SECRET_PLACE}</rdf:Description>'
    out = io.BytesIO()
    xmp += "</x:xmpmeta>"
    image.save(out, "JPEG", quality=90, exif=exif, xmp=xmp.encode(), comment=SECRET_PLACE)
    return out.getvalue() + b"MotionPhoto_Data" + SECRET_PLACE.encode()


def test_an_upright_jpeg_keeps_its_exact_pixels_and_loses_gps_xmp_and_comments(client, world):
    original = camera_jpeg()
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "comment" in before.info
    code = submit(client)["tracking_code"]
    response = upload(client, world, code, original)
    assert response.status_code == 201, response.text
    photo = response.json()
    stored = client.get(photo["url"], headers=world.headers["operator"]).content
    after = Image.open(io.BytesIO(stored))
    assert dict(after.getexif()) == {} and "comment" not in after.info and "xmp" not in after.info
    assert SECRET_PLACE.encode() not in stored and b"Exif" not in stored
    assert b"MotionPhoto" not in stored
    assert after.tobytes() == before.tobytes()  # not re-encoded: the same pixels, bit for bit
    assert (photo["width"], photo["height"]) == (1200, 900)
    thumb = client.get(photo["thumb_url"], headers=world.headers["operator"]).content
    assert Image.open(io.BytesIO(thumb)).size == (320, 240)


def test_a_rotated_jpeg_is_stored_upright_without_metadata():
    cleaned = photos.clean(camera_jpeg((600, 400), orientation=6), 10_000_000)
    stored = Image.open(io.BytesIO(cleaned.data))
    assert stored.size == (400, 600) == (cleaned.width, cleaned.height)
    assert dict(stored.getexif()) == {} and SECRET_PLACE.encode() not in cleaned.data
    thumb = photos.thumbnail(cleaned.data, cleaned.content_type)
    assert Image.open(io.BytesIO(thumb)).size == (213, 320)


def test_a_cut_or_corrupt_jpeg_is_refused_with_a_structured_error(client, world):
    code = submit(client)["tracking_code"]
    whole = camera_jpeg((300, 200))
    for broken in (whole[: len(whole) // 2], whole[:2] + b"\xff\xe1\xff\xff" + whole[4:40]):
        response = upload(client, world, code, broken)
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupported_media_type"
        assert "JPEG, PNG or WebP" in response.json()["detail"]


def test_a_heic_photo_from_a_phone_is_stored_as_a_jpeg_without_its_gps(client, world):
    import pillow_heif  # made with libheif directly: the app must register the opener itself

    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Dien thoai cua nguoi dan"  # EXIF text is ASCII
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    out = io.BytesIO()
    pixels = Image.new("RGB", (640, 480), (30, 160, 90))
    pillow_heif.from_pillow(pixels).save(out, quality=80, exif=exif.tobytes())
    heic = out.getvalue()
    assert heic[4:12] == b"ftypheic" and b"Dien thoai" in heic
    code = submit(client)["tracking_code"]
    response = upload(client, world, code, heic, name="IMG_0001.HEIC", mime="image/heic")
    assert response.status_code == 201, response.text
    photo = response.json()
    assert (photo["content_type"], photo["width"], photo["height"]) == ("image/jpeg", 640, 480)
    stored = client.get(photo["url"], headers=world.headers["operator"]).content
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and dict(image.getexif()) == {}
    assert b"Dien thoai" not in stored
    assert image.getpixel((320, 240)) == pytest.approx((30, 160, 90), abs=6)
