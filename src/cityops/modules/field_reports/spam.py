"""Spam screening of public submissions: per-client rate limit and a simple spam score."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cityops.core.deps import client_address
from cityops.core.errors import TooManyRequests
from cityops.modules.field_reports.blocks import check_not_blocked
from cityops.modules.field_reports.models import SubmissionHit
from cityops.modules.field_reports.runtime import Runtime
from cityops.modules.field_reports.schemas import ReportCreate

LINK = re.compile(r"(https?://|www\.|\b[\w-]+\.(?:com|net|org|vn|xyz|top|info)\b)", re.I)
WORD = re.compile(r"\w+", re.UNICODE)
DEVICE_HEADER = "x-device-id"
DEVICE_COOKIE = "cityops_device"


@dataclass(frozen=True)
class Client:
    """Who sends a public submission: the IP address and the device id the app or page sent."""

    ip: str
    device_id: str | None = None


def client_of(request: Request) -> Client:
    """Identify a public submitter by IP and the X-Device-Id header or cityops_device cookie."""
    device = request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE) or ""
    return Client(client_address(request), device.strip()[:64] or None)


def check_rate(session: Session, rt: Runtime, client: Client) -> None:
    """Refuse (429) a submission when this device or IP address sent too many lately."""
    since = rt.now - timedelta(minutes=rt.fr.submit_window_minutes)
    session.execute(delete(SubmissionHit).where(SubmissionHit.at < since))
    by_ip = session.scalar(
        select(func.count()).where(SubmissionHit.ip == client.ip, SubmissionHit.at >= since)
    )
    by_device = 0
    if client.device_id:
        by_device = session.scalar(
            select(func.count()).where(
                SubmissionHit.device_id == client.device_id, SubmissionHit.at >= since
            )
        )
    if (by_device or 0) >= rt.fr.submit_max or (by_ip or 0) >= rt.fr.submit_max_per_ip:
        minutes = f"{rt.fr.submit_window_minutes:g}"
        raise TooManyRequests(
            f"Bạn đã gửi quá nhiều phản ánh; vui lòng thử lại sau {minutes} phút. / "
            f"Too many reports from this device; try again in {minutes} minutes.",
            code="submission_rate_limited",
        )
    session.add(SubmissionHit(ip=client.ip[:64], device_id=client.device_id, at=rt.now))


def _repetition(words: list[str]) -> float:
    """Return how repetitive a text is: 0 (every word different) to 1 (one word repeated)."""
    if len(words) < 6:
        return 0.0
    return 1 - len(set(words)) / len(words)


def _all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8


def score(text: str, banned_words: list[str]) -> tuple[int, list[str]]:
    """Score a text 0-100 for spam and say why (links, repeated text, capitals, banned words)."""
    points, why = 0, []
    links = len(LINK.findall(text))
    if links:
        points += min(60, 30 * links)
        why.append(f"links:{links}")
    words = [w.lower() for w in WORD.findall(text)]
    repeated = _repetition(words)
    if repeated > 0.6 or re.search(r"(.)\1{7,}", text):
        points += 30
        why.append("repeated_text")
    if _all_caps(text):
        points += 20
        why.append("all_caps")
    lowered = text.lower()
    hits = [w for w in banned_words if w and w.lower() in lowered]
    if hits:
        points += 40 * len(hits)
        why.append("banned_words:" + ",".join(hits))
    return min(points, 100), why


def screen(
    session: Session,
    rt: Runtime,
    data: ReportCreate,
    client: Client | None,
    *,
    anonymous: bool,
    trap: bool = False,
) -> int:
    """Check a citizen's submission (blocked? too many?) and return its spam score."""
    device = client.device_id if client else None
    check_not_blocked(session, rt, data.reporter_phone, data.reporter_email, device)
    if anonymous and client is not None:
        check_rate(session, rt, client)
    if trap:
        return 100  # the hidden form field was filled in: a bot
    points, _why = score(f"{data.description} {data.address or ''}", rt.fr.banned_words)
    return points
