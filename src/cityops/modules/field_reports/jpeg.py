"""Lossless metadata removal for JPEG: keep the image segments, drop EXIF, XMP and comments.

The compressed pixels are copied byte for byte (no decode, no re-encode, no quality loss);
only the segments that carry no picture are left out: APP1 (EXIF with GPS, XMP), APP2-APP13
and APP15 (ICC, MPF, Photoshop IRB with IPTC captions, maker data), COM (comments), and
anything after the end of the image (trailers such as embedded motion-photo videos).
APP0 (JFIF) and APP14 (Adobe: how to read the colours) are kept.
"""

from __future__ import annotations

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
KEEP_APP = {0xE0: b"JFIF\x00", 0xEE: b"Adobe"}
STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0-7: markers without a length


class BadJpeg(ValueError):
    """The bytes are not a well-formed JPEG stream."""


def _keep(marker: int, body: bytes) -> bool:
    if marker == 0xFE or 0xE0 <= marker <= 0xEF:  # COM, APPn
        prefix = KEEP_APP.get(marker)
        return prefix is not None and body.startswith(prefix)
    return True


def _scan_end(data: bytes, pos: int) -> int:
    """Return where the entropy-coded data starting at pos ends (at the next real marker)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise BadJpeg("the image data ends without an end-of-image marker")
        nxt = data[pos + 1]
        if nxt == 0x00 or nxt in STANDALONE or nxt == 0xFF:  # stuffed byte, restart, fill
            pos += 1 if nxt == 0xFF else 2
            continue
        return pos


def strip(data: bytes) -> bytes:
    """Return the JPEG without metadata segments, its compressed pixels untouched."""
    if data[:2] != b"\xff\xd8":
        raise BadJpeg("not a JPEG (no start-of-image marker)")
    out: list[bytes | memoryview] = [b"\xff\xd8"]
    pos, size = 2, len(data)
    while pos < size:
        if data[pos] != 0xFF or pos + 1 >= size:
            raise BadJpeg(f"expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == EOI:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if marker in STANDALONE or marker == SOI:
            raise BadJpeg(f"unexpected marker 0xFF{marker:02X} at byte {pos}")
        if pos + 4 > size:
            raise BadJpeg("the file is cut short")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            raise BadJpeg(f"segment 0xFF{marker:02X} at byte {pos} runs past the end")
        if _keep(marker, data[pos + 4 : end]):
            out.append(data[pos:end])
        if marker == SOS:
            scan_end = _scan_end(data, end)
            out.append(memoryview(data)[end:scan_end])  # the pixels: joined once, not copied twice
            end = scan_end
        pos = end
    raise BadJpeg("the file ends without an end-of-image marker")
