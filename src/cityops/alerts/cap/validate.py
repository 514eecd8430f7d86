"""Validate CAP 1.2 messages: the OASIS XSD plus the rules of the specification it cannot say."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from lxml import etree

NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD = files("cityops") / "data" / "cap" / "CAP-v1.2.xsd"

_PAIR = r"-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?"
_POLYGON = re.compile(rf"^{_PAIR}( {_PAIR}){{3,}}$")
_CIRCLE = re.compile(rf"^{_PAIR} \d+(\.\d+)?$")
# CAP 1.2 section 3.3.2: identifiers and references may not hold spaces, commas, < or &.
_IDENTIFIER = re.compile(r"^[^\s,<&]+$")


class CapInvalid(Exception):
    """A CAP message broke the schema or the specification; `errors` says where."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """Load the CAP 1.2 XML Schema shipped with CityOps (once)."""
    with XSD.open("rb") as f:
        return etree.XMLSchema(etree.parse(f, _parser()))


def _parser() -> etree.XMLParser:
    # No DTDs, no entities, no network: a CAP message is untrusted input.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse(data: bytes) -> etree._Element:
    """Parse XML bytes safely; CapInvalid with the line number if they are not XML."""
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        raise CapInvalid([f"line {err.lineno}: {err.msg}"]) from err


def _spec_errors(root: etree._Element) -> list[str]:
    errors = []
    q = f"{{{NS}}}"
    for tag in ("identifier",):
        for el in root.iter(q + tag):
            if not _IDENTIFIER.match(el.text or ""):
                errors.append(
                    f"line {el.sourceline}: <{tag}> may not contain spaces, commas, < or &"
                )
    for el in root.iter(q + "polygon"):
        text = (el.text or "").strip()
        points = text.split()
        if not _POLYGON.match(text) or points[0] != points[-1]:
            errors.append(
                f"line {el.sourceline}: <polygon> must be 4+ 'lat,lon' pairs, first = last"
            )
    for el in root.iter(q + "circle"):
        if not _CIRCLE.match((el.text or "").strip()):
            errors.append(f"line {el.sourceline}: <circle> must be 'lat,lon radius_km'")
    return errors


def validate_tree(root: etree._Element) -> None:
    """Raise CapInvalid unless the element is a valid CAP 1.2 <alert>."""
    xsd = schema()
    if not xsd.validate(root):
        errors = [f"line {e.line}: {e.message}" for e in xsd.error_log]  # type: ignore[attr-defined]
        raise CapInvalid(errors or ["not a CAP 1.2 alert"])
    errors = _spec_errors(root)
    if errors:
        raise CapInvalid(errors)


def validate(data: bytes) -> etree._Element:
    """Parse and validate a CAP 1.2 message; return its root or raise CapInvalid."""
    root = parse(data)
    validate_tree(root)
    return root
