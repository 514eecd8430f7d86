"""Build CAP 1.2 messages (lxml) from an alert: one <info> in vi-VN and one in en-US."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from cityops.alerts.cap.validate import NS

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_POLYGON_POINTS = 100

SEVERITY = {
    "critical": "Extreme",
    "major": "Severe",
    "minor": "Moderate",
    "warning": "Minor",
    "info": "Unknown",
}
DEFAULT_URGENCY = {
    "critical": "Immediate",
    "major": "Expected",
    "minor": "Expected",
    "warning": "Future",
    "info": "Unknown",
}
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
# Sources that measure something (a sensor reading) are Observed; others Likely.
OBSERVED_SOURCES = frozenset({"entity", "reading", "sensor", "device", "ngsi"})

# (words in the hazard / source / title, folded) -> CAP category, first match wins; words of
# 4+ letters match as prefixes ("flood" matches "flooding"), shorter ones as whole words
CATEGORY_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("flood", "ngap", "lu", "rain", "mua", "storm", "water", "weather", "typhoon"), "Met"),
    (("landslide", "sat lo", "earthquake", "dong dat", "geo"), "Geo"),
    (("fire", "chay"), "Fire"),
    (("air", "pm2", "pm10", "pollution", "o nhiem", "env", "aqi"), "Env"),
    (("health", "y te", "dich benh", "disease"), "Health"),
    (("traffic", "giao thong", "accident", "tai nan", "road", "transport"), "Transport"),
    (("device", "offline", "power", "dien", "infra", "network"), "Infra"),
    (("security", "an ninh", "crime", "cyber"), "Security"),
)


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (đ -> d) for keyword matching."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def category_for(*hints: str | None) -> str:
    """Pick the CAP category from the hazard, the source kind or the title (Safety otherwise)."""
    words = " ".join(fold(h) for h in hints if h)
    padded = f" {words.replace('_', ' ').replace('.', ' ')} "
    for keys, category in CATEGORY_WORDS:
        if any(f" {k} " in padded or (len(k) > 3 and f" {k}" in padded) for k in keys):
            return category
    return "Safety"


def cap_time(at: datetime) -> str:
    """Format a time the way CAP wants it: local time with an explicit offset, no fraction."""
    return at.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Area:
    """Where: a description in both languages, and a polygon and/or circle."""

    desc_vi: str
    desc_en: str
    polygon: str | None = None
    circle: str | None = None


@dataclass(frozen=True)
class CapInput:
    """Everything a CAP message says, gathered from an alert, its unit and the operator."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    severity: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    area: Area
    category: str = "Safety"
    urgency: str | None = None
    certainty: str = "Likely"
    instruction_vi: str | None = None
    instruction_en: str | None = None
    sender_name_vi: str = ""
    sender_name_en: str = ""
    references: str | None = None
    web: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


def polygon_text(geometry: dict[str, Any] | BaseGeometry | None) -> str | None:
    """Turn a (multi)polygon into a simplified, closed CAP ring of 'lat,lon' pairs."""
    if geometry is None:
        return None
    geom = geometry if isinstance(geometry, BaseGeometry) else shape(geometry)
    if geom.is_empty or geom.geom_type not in {"Polygon", "MultiPolygon"}:
        return None
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    tolerance = 0.0005
    ring = list(geom.exterior.coords)
    while len(ring) > MAX_POLYGON_POINTS:
        ring = list(geom.simplify(tolerance, preserve_topology=True).exterior.coords)
        tolerance *= 2
    if len(ring) < 4:
        return None
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat, *_ in ring)


def circle_text(lat: float | None, lon: float | None, radius_km: float) -> str | None:
    """Return a CAP circle 'lat,lon radius' around a point, if there is one."""
    if lat is None or lon is None:
        return None
    return f"{lat:.5f},{lon:.5f} {radius_km:g}"


def _sub(parent: etree._Element, tag: str, text: str | None) -> None:
    if text:
        etree.SubElement(parent, f"{{{NS}}}{tag}").text = text


def _info(root: etree._Element, c: CapInput, lang: str) -> None:
    vi = lang == "vi-VN"
    info = etree.SubElement(root, f"{{{NS}}}info")
    _sub(info, "language", lang)
    _sub(info, "category", c.category)
    _sub(info, "event", c.title_vi if vi else c.title_en)
    _sub(info, "urgency", c.urgency or DEFAULT_URGENCY.get(c.severity, "Unknown"))
    _sub(info, "severity", SEVERITY.get(c.severity, "Unknown"))
    _sub(info, "certainty", c.certainty)
    _sub(info, "senderName", c.sender_name_vi if vi else c.sender_name_en)
    _sub(info, "headline", (c.title_vi if vi else c.title_en)[:160])
    _sub(info, "description", c.description_vi if vi else c.description_en)
    _sub(info, "instruction", c.instruction_vi if vi else c.instruction_en)
    _sub(info, "web", c.web)
    for name, value in c.parameters.items():
        param = etree.SubElement(info, f"{{{NS}}}parameter")
        _sub(param, "valueName", name)
        _sub(param, "value", value)
    area = etree.SubElement(info, f"{{{NS}}}area")
    _sub(area, "areaDesc", c.area.desc_vi if vi else c.area.desc_en)
    _sub(area, "polygon", c.area.polygon)
    _sub(area, "circle", c.area.circle)


def build(c: CapInput) -> bytes:
    """Serialise a CAP 1.2 <alert> (UTF-8, with XML declaration); validate it before use."""
    root = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    _sub(root, "identifier", c.identifier)
    _sub(root, "sender", c.sender)
    _sub(root, "sent", cap_time(c.sent))
    _sub(root, "status", c.status)
    _sub(root, "msgType", c.msg_type)
    _sub(root, "source", "CityOps")
    _sub(root, "scope", "Public")
    _sub(root, "references", c.references)
    _info(root, c, "vi-VN")
    _info(root, c, "en-US")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
