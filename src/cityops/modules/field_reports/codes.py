"""Tracking codes PA-<year>-<number>-<random Crockford base32 suffix> that cannot be guessed."""

from __future__ import annotations

import re
import secrets

# Crockford base32: no I, L, O, U (easy to read out over the phone).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SUFFIX_LENGTH = 4
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE = re.compile(r"^(PA-\d{4}-\d{6,})(?:-([0-9A-Z]{4}))?$")


def suffix() -> str:
    """Return a random suffix of four Crockford base32 characters (about a million values)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(SUFFIX_LENGTH))


def make_code(year: int, number: int) -> str:
    """Return a new tracking code, e.g. PA-2026-000123-K7QX."""
    return f"PA-{year}-{number:06d}-{suffix()}"


def normalise(ref: str) -> str:
    """Upper-case a typed code and read O as 0 and I/L as 1 in its suffix (Crockford rules)."""
    ref = ref.strip().upper()
    match = _CODE.match(ref)
    if match and match.group(2):
        return f"{match.group(1)}-{match.group(2).translate(_READ_AS)}"
    head, sep, tail = ref.rpartition("-")
    if sep and _CODE.match(head) and len(tail) == SUFFIX_LENGTH:
        return f"{head}-{tail.translate(_READ_AS)}"
    return ref
