"""Report photos: JPEG/PNG/WebP only, without metadata (EXIF/GPS), with thumbnails."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.core import audit
from cityops.core.errors import CityOpsError, Conflict, NotFound
from cityops.core.policy import Principal
from cityops.modules.field_reports import jpeg
from cityops.modules.field_reports.models import Photo, Report
from cityops.modules.field_reports.runtime import Runtime

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Formats accepted but stored as another (HEIC photos from phones become JPEGs).
CONVERTED = {"HEIF": "JPEG"}
ACCEPTED = "JPEG, PNG or WebP (or HEIC from a phone)"
register_heif_opener()  # lets Pillow read HEIC/HEIF (libheif, via pillow-heif)
THUMB_PX = 320
MAX_PIXELS = 50_000_000  # a larger image is refused before decoding (decompression bombs)


class PhotoTooLarge(CityOpsError):
    """The upload is bigger than CITYOPS_FIELD_REPORTS__MAX_PHOTO_BYTES."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedPhoto(CityOpsError):
    """The upload is not a JPEG, PNG, WebP or HEIC image."""

    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class CleanImage:
    """An image re-encoded without metadata, and its thumbnail."""

    data: bytes
    thumb: bytes
    content_type: str
    width: int
    height: int


def _open(data: bytes, *, load: bool = True) -> Image.Image:
    """Open an upload (header checks; decode all pixels when `load`), refusing bad files."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS and image.format not in CONVERTED:
                raise UnsupportedPhoto(
                    f"Photos must be {ACCEPTED} (got {image.format or 'unknown'})"
                )
            if image.width * image.height > MAX_PIXELS:
                raise PhotoTooLarge(f"Photos may have at most {MAX_PIXELS:,} pixels")
            if load:
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise UnsupportedPhoto(f"The file is not a readable image: send {ACCEPTED}") from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise PhotoTooLarge(f"Photos may have at most {MAX_PIXELS:,} pixels") from err
    return image


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except (OSError, SyntaxError, ValueError, TypeError):
        return 0  # unreadable EXIF: take the re-encoding path, which copes


def _clean_jpeg(data: bytes, header: Image.Image) -> CleanImage:
    """Strip an upright JPEG losslessly; decode it at 1/8 scale (DCT scaling) for the thumbnail."""
    try:
        stripped = jpeg.strip(data)
        small = Image.open(io.BytesIO(stripped))
        small.draft("RGB" if header.mode == "RGB" else "L", (THUMB_PX, THUMB_PX))
        small.load()  # reads every scan: a broken stream is refused here
    except (jpeg.BadJpeg, OSError, SyntaxError) as err:
        raise UnsupportedPhoto(f"The file is not a readable image: send {ACCEPTED}") from err
    small.thumbnail((THUMB_PX, THUMB_PX))
    return CleanImage(
        data=stripped,
        thumb=_encode(small, "JPEG"),
        content_type=FORMATS["JPEG"],
        width=header.width,
        height=header.height,
    )


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Write pixels only: no EXIF, GPS, XMP, ICC or comments survive."""
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def clean(data: bytes, max_bytes: int) -> CleanImage:
    """Check an upload and drop its metadata (upright JPEGs losslessly, others re-encoded)."""
    if len(data) > max_bytes:
        raise PhotoTooLarge(f"A photo may be at most {max_bytes:,} bytes (got {len(data):,})")
    header = _open(data, load=False)
    if header.format == "JPEG" and header.mode in ("RGB", "L") and _orientation(header) == 1:
        return _clean_jpeg(data, header)
    source = _open(data)
    fmt = CONVERTED.get(source.format or "", source.format or "JPEG")
    upright = ImageOps.exif_transpose(source)
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        alpha = "A" in upright.getbands() or "transparency" in upright.info
        upright = upright.convert("RGBA" if alpha else "RGB")
    pixels = Image.new(upright.mode, upright.size)
    pixels.paste(upright)
    thumb = pixels.copy()
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    return CleanImage(
        data=_encode(pixels, fmt),
        thumb=_encode(thumb, fmt),
        content_type=FORMATS[fmt],
        width=pixels.width,
        height=pixels.height,
    )


async def cleaned(rt: Runtime, data: bytes) -> CleanImage:
    """Check and re-encode an upload in a worker thread, before any transaction is open."""
    return await run_in_threadpool(clean, data, rt.fr.max_photo_bytes)


def add_photo(
    session: Session, rt: Runtime, principal: Principal, report: Report, image: CleanImage
) -> Photo:
    """Store a cleaned photo of a report (the caller checks the right to add one)."""
    count = session.scalar(select(func.count()).where(Photo.report_id == report.id)) or 0
    if count >= rt.fr.max_photos:
        raise Conflict(
            f"Report {report.tracking_code} has {count} photos already (at most "
            f"{rt.fr.max_photos})",
            code="too_many_photos",
        )
    full = rt.files.save(image.data, image.content_type)
    thumb = rt.files.save(image.thumb, image.content_type)
    photo = Photo(
        report_id=report.id,
        file_key=full.key,
        thumb_key=thumb.key,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        size=full.size,
        uploaded_by=principal.actor,
        created_at=rt.now,
    )
    session.add(photo)
    session.flush()
    audit.record(
        session,
        principal,
        "field_report.photo",
        "field_report",
        report.tracking_code,
        after=audit.snapshot(photo),
        unit_id=report.unit_id,
    )
    return photo


def photo_bytes(
    session: Session, rt: Runtime, report: Report, photo_id: int, thumb: bool
) -> tuple[bytes, str]:
    """Return a photo's (or its thumbnail's) bytes and content type."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(f"No photo {photo_id} on report {report.tracking_code}")
    return rt.files.read(photo.thumb_key if thumb else photo.file_key), photo.content_type
