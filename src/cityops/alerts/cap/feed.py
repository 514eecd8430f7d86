"""The Atom feed of current CAP messages (the shape national and WMO CAP feeds use)."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from cityops.alerts.cap.models import CapMessage
from cityops.alerts.cap.validate import NS, parse
from cityops.core.config import Settings

ATOM = "http://www.w3.org/2005/Atom"
CAP_TYPE = "application/cap+xml"


def _a(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _info(message: CapMessage) -> dict[str, str]:
    root = parse(message.xml.encode("utf-8"))
    q = f"{{{NS}}}"
    info = root.find(f"{q}info")
    if info is None:
        return {}
    return {
        tag: (info.findtext(f"{q}{tag}") or "")
        for tag in ("headline", "description", "category", "severity", "urgency", "event")
    }


def message_url(base_url: str, message: CapMessage) -> str:
    """Return the URL a message is served at."""
    return f"{base_url.rstrip('/')}/cap/alerts/{message.identifier}.xml"


def build_feed(
    settings: Settings, messages: list[CapMessage], base_url: str, now: datetime
) -> bytes:
    """Serialise an Atom feed listing the messages, newest first."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    base = base_url.rstrip("/")
    _a(feed, "id", f"{base}/cap/feed.atom")
    _a(feed, "title", f"{settings.cap.sender_name_vi} — CAP")
    _a(feed, "subtitle", "Cảnh báo công khai (CAP 1.2) / Public alerts (CAP 1.2)")
    updated = messages[0].sent_at if messages else now
    _a(feed, "updated", updated.replace(microsecond=0).isoformat())
    _a(feed, "link", rel="self", href=f"{base}/cap/feed.atom", type="application/atom+xml")
    author = _a(feed, "author")
    _a(author, "name", settings.cap.sender_name_vi)
    if "@" in settings.cap.sender:
        _a(author, "email", settings.cap.sender)
    for m in messages:
        info = _info(m)
        entry = _a(feed, "entry")
        url = message_url(base, m)
        _a(entry, "id", url)
        title = info.get("headline") or m.alert_title
        _a(entry, "title", f"[{m.msg_type}] {title}" if m.msg_type != "Alert" else title)
        _a(entry, "updated", m.sent_at.replace(microsecond=0).isoformat())
        _a(entry, "published", m.sent_at.replace(microsecond=0).isoformat())
        _a(entry, "summary", info.get("description") or title)
        if info.get("category"):
            _a(entry, "category", term=info["category"])
        _a(entry, "link", rel="alternate", type=CAP_TYPE, href=url)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
