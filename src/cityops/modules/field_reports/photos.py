"""Report photos: JPEG/PNG/WebP only, without metadata (EXIF/GPS); thumbnails on first view.

A submission stores the cleaned photo only (an upright JPEG is checked by its headers and
stripped losslessly, never decoded). The 320 px thumbnail is made the first time someone asks
for it and kept in the file store beside the photo (as FixMyStreet sizes photos on demand).
"""

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
from cityops.core.files import FileRef
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
THUMB = f"thumb{THUMB_PX}"  # the name of the derived file in the store
MAX_PIXELS = 50_000_000  # a larger image is refused before decoding (decompression bombs)


class PhotoTooLarge(CityOpsError):
    """The upload is bigger than CITYOPS_FIELD_REPORTS__MAX_PHOTO_BYTES."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedPhoto(CityOpsError):
    """The upload is not a JPEG, PNG, WebP or HEIC image."""

    status_code = 415
    code = "unsupported_media_type"


class UndecodablePhoto(CityOpsError):
    """A stored photo's pixels cannot be decoded (its thumbnail cannot be made)."""

    status_code = 422
    code = "undecodable_photo"


@dataclass(frozen=True)
class CleanImage:
    """An image without metadata (stripped or re-encoded), ready to store."""

    data: bytes
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
    """Strip an upright JPEG losslessly: its headers are checked, its pixels copied as they are."""
    try:
        stripped = jpeg.strip(data)
    except jpeg.BadJpeg as err:
        raise UnsupportedPhoto(f"The file is not a readable image: send {ACCEPTED}") from err
    return CleanImage(
        data=stripped, content_type=FORMATS["JPEG"], width=header.width, height=header.height
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
    return CleanImage(
        data=_encode(pixels, fmt),
        content_type=FORMATS[fmt],
        width=pixels.width,
        height=pixels.height,
    )


def thumbnail(data: bytes, content_type: str) -> bytes:
    """Make the 320 px thumbnail of a stored (clean, upright) photo, in the photo's format."""
    fmt = next((f for f, t in FORMATS.items() if t == content_type), "JPEG")
    try:
        image = Image.open(io.BytesIO(data))
        if fmt == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale straight from the DCT
            image.draft("RGB" if image.mode == "RGB" else "L", (THUMB_PX, THUMB_PX))
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        raise UndecodablePhoto("The stored photo cannot be decoded to make its thumbnail") from err
    image.thumbnail((THUMB_PX, THUMB_PX))
    return _encode(image, fmt)


async def cleaned(rt: Runtime, data: bytes) -> CleanImage:
    """Check and re-encode an upload in a worker thread, before any transaction is open."""
    return await run_in_threadpool(clean, data, rt.fr.max_photo_bytes)


def add_photo(
    session: Session,
    rt: Runtime,
    principal: Principal,
    report: Report,
    image: CleanImage,
    *,
    count: int | None = None,
    stored: FileRef | None = None,
) -> Photo:
    """Store a cleaned photo of a report (the caller checks the right to add one).

    `count`: how many photos the report has already, when the caller knows (a new report);
    `stored`: the image's file when the caller saved it before the transaction.
    """
    if count is None:
        count = session.scalar(select(func.count()).where(Photo.report_id == report.id)) or 0
    if count >= rt.fr.max_photos:
        raise Conflict(
            f"Report {report.tracking_code} has {count} photos already (at most "
            f"{rt.fr.max_photos})",
            code="too_many_photos",
        )
    full = stored or rt.files.save(image.data, image.content_type)
    photo = Photo(
        report_id=report.id,
        file_key=full.key,
        thumb_key=None,  # made on first view (photo_bytes)
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
    """Return a photo's bytes (or its thumbnail's, made and kept on first request) and type."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(f"No photo {photo_id} on report {report.tracking_code}")
    if not thumb:
        return rt.files.read(photo.file_key), photo.content_type
    if photo.thumb_key:  # photos stored before thumbnails were made on demand
        return rt.files.read(photo.thumb_key), photo.content_type
    content_type = photo.content_type
    data = rt.files.derived(photo.file_key, THUMB, lambda full: thumbnail(full, content_type))
    return data, content_type
