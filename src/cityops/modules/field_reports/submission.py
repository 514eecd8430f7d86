"""One-request submission: a report as JSON, or as multipart/form-data with its photos.

A phone app or the public page sends `multipart/form-data` with a `report` part (the same JSON
object as the JSON submission) and up to `max_photos` `photos` file parts, as FixMyStreet and
Open311 mobile clients do. The body is parsed as it streams in (python-multipart), each part
kept in memory once and bounded (a photo above the size limit is refused while it arrives);
nothing is spooled to temporary files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from cityops.core.config import FieldReportsSettings
from cityops.core.errors import CityOpsError, InvalidInput
from cityops.modules.field_reports import photos
from cityops.modules.field_reports.moderation_schemas import PublicReportCreate

REPORT = "report"
PHOTOS = "photos"
MAX_REPORT_BYTES = 64_000  # the report's JSON part (descriptions are at most 4,000 characters)
MAX_HEADER_BYTES = 4_000  # the headers of one part
_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


class MalformedForm(CityOpsError):
    """The multipart body cannot be read (no boundary, cut short, unexpected parts)."""

    status_code = 400
    code = "malformed_multipart"


@dataclass(frozen=True)
class Upload:
    """A photo as sent: its position (1-based), file name, declared type and bytes."""

    index: int
    filename: str
    content_type: str
    data: bytes

    @property
    def label(self) -> str:
        """Name the file for error messages: 'photo 2 (ổ-gà.jpg)'."""
        return f"photo {self.index} ({self.filename})"


@dataclass(frozen=True)
class Submission:
    """A validated report and the photos sent with it (not yet checked)."""

    report: PublicReportCreate
    photos: list[Upload]


async def read_submission(request: Request, fr: FieldReportsSettings) -> Submission:
    """Read a JSON or multipart/form-data submission (422 for an invalid report)."""
    ctype, options = parse_options_header(request.headers.get("content-type"))
    if ctype != b"multipart/form-data":
        return Submission(_report(await request.body(), ("body",)), [])
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedForm("The multipart/form-data body has no boundary")
    parts = _Parts(fr)
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as err:
        raise MalformedForm(f"The multipart/form-data body cannot be read: {err}") from err
    if not parts.done:
        raise MalformedForm("The multipart/form-data body is cut short")
    if parts.report is None:
        raise InvalidInput(
            f"Send the report as a '{REPORT}' part (JSON) with the '{PHOTOS}' files",
            code="report_missing",
        )
    return Submission(_report(parts.report, ("body", REPORT)), parts.uploads)


def clean_photos(uploads: list[Upload], max_bytes: int) -> list[photos.CleanImage]:
    """Check and clean every photo first (nothing is stored when one is bad), naming a bad one."""
    images = []
    for upload in uploads:
        try:
            images.append(photos.clean(upload.data, max_bytes))
        except (photos.UnsupportedPhoto, photos.PhotoTooLarge) as err:
            raise type(err)(
                f"{upload.label.capitalize()}: {err.detail}",
                extra={"file": upload.filename, "index": upload.index},
            ) from err
    return images


def _report(raw: bytes, loc: tuple[str, ...]) -> PublicReportCreate:
    """Validate the report's JSON as FastAPI would a body (its 422 format)."""
    try:
        return PublicReportCreate.model_validate_json(raw)
    except ValidationError as err:
        errors = [{**e, "loc": (*loc, *e["loc"])} for e in err.errors(include_url=False)]
        raise RequestValidationError(errors) from err


@dataclass
class _Parts:
    """Collects the parts of a multipart body as python-multipart reports them."""

    fr: FieldReportsSettings
    report: bytes | None = None
    uploads: list[Upload] = field(default_factory=list)
    done: bool = False
    _headers: dict[str, str] = field(default_factory=dict)
    _header: list[bytes] = field(default_factory=list)
    _value: list[bytes] = field(default_factory=list)
    _chunks: list[memoryview] = field(default_factory=list)
    _size: int = 0
    _limit: int = 0
    _head_bytes: int = 0

    def callbacks(self) -> dict[str, Any]:
        """Return the parser's callbacks."""
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._head(self._header, d[s:e]),
            "on_header_value": lambda d, s, e: self._head(self._value, d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._chunks, self._size, self._head_bytes = {}, [], 0, 0

    def _head(self, into: list[bytes], data: bytes) -> None:
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEADER_BYTES:
            raise MalformedForm("A part of the multipart body has too long headers")
        into.append(data)

    def _header_end(self) -> None:
        name = b"".join(self._header).decode("latin-1").strip().lower()
        self._headers[name] = b"".join(self._value).decode("utf-8", "replace").strip()
        self._header, self._value = [], []

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == REPORT and self.report is None:
            self._limit = MAX_REPORT_BYTES
        elif name == PHOTOS:
            if len(self.uploads) >= self.fr.max_photos:
                raise InvalidInput(
                    f"A report may have at most {self.fr.max_photos} photos",
                    code="too_many_photos",
                )
            self._limit = self.fr.max_photo_bytes
        else:
            raise MalformedForm(
                f"Unexpected part '{name}': send one '{REPORT}' part (JSON) and up to "
                f"{self.fr.max_photos} '{PHOTOS}' files"
            )
        self._headers["name"] = name
        self._headers["filename"] = options.get(b"filename", b"").decode("utf-8", "replace")

    def _data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._size > self._limit:
            if self._headers["name"] == REPORT:
                raise MalformedForm(f"The '{REPORT}' part may be at most {MAX_REPORT_BYTES} bytes")
            upload = self._upload(b"")
            raise photos.PhotoTooLarge(
                f"{upload.label.capitalize()}: a photo may be at most {self._limit:,} bytes",
                extra={"file": upload.filename, "index": upload.index},
            )
        self._chunks.append(memoryview(data)[start:end])  # no copy until the part is joined

    def _part_end(self) -> None:
        body = b"".join(self._chunks)
        if self._headers["name"] == REPORT:
            self.report = body
        else:
            self.uploads.append(self._upload(body))

    def _upload(self, body: bytes) -> Upload:
        filename = _NAME.sub("_", self._headers["filename"].rsplit("/", 1)[-1])[:100]
        ctype = self._headers.get("content-type", "application/octet-stream")[:100]
        index = len(self.uploads) + 1
        return Upload(index, filename or f"photo-{index}", ctype, body)

    def _end(self) -> None:
        self.done = True


def openapi_body() -> dict[str, Any]:
    """Describe both request bodies of the submission in the OpenAPI document."""
    schema = PublicReportCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # Urgency is among the components already (ReportCreate)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [REPORT],
                        "properties": {
                            REPORT: {
                                **schema,
                                "description": "The report, as the JSON body would be",
                            },
                            PHOTOS: {
                                "type": "array",
                                "maxItems": 5,
                                "description": "Up to 5 photos (CITYOPS_FIELD_REPORTS__MAX_PHOTOS):"
                                " JPEG, PNG, WebP or HEIC; GPS and other metadata are removed",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    },
                    "encoding": {
                        REPORT: {"contentType": "application/json"},
                        PHOTOS: {"contentType": "image/jpeg, image/png, image/webp, image/heic"},
                    },
                },
            },
        }
    }
