"""Notices to citizens: the reporter and the followers of a report hear of each status change.

A bus handler on `field_reports.status_changed` queues one e-mail (when SMTP is configured)
and one message through the operator's SMS/Zalo webhook target (setting
`field_reports.notice_webhook`) per contact; the notification worker sends them after the
commit, with retries and dead letters like every other delivery. Status changes the public
does not need (verified: routing follows at once; returned by an agency to the operator;
spam) send nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from cityops.alerts.notify import Contact, notify_contacts
from cityops.core.config import Settings
from cityops.core.db import Database
from cityops.modules.field_reports.choices import STATUSES, Status
from cityops.modules.field_reports.duplicates import followers
from cityops.modules.field_reports.events import StatusChanged
from cityops.modules.field_reports.models import Report

QUIET = {Status.received, Status.verified, Status.returned, Status.spam}
TOPIC = "field_reports.status"


def contacts_of(session: object, report: Report) -> list[Contact]:
    """The reporter's contact (if any) and every follower's."""
    found = [Contact(report.reporter_email, report.reporter_phone)]
    found += [Contact(f.email, f.phone) for f in followers(session, report)]  # type: ignore[arg-type]
    return [c for c in found if c.email or c.phone]


def message(report: Report, to_status: str, link: str | None) -> tuple[str, str]:
    """Subject and body, in Vietnamese first and English after."""
    label = STATUSES[to_status]
    code = report.tracking_code
    subject = f"Phản ánh {code}: {label.label_vi} / Report {code}: {label.label_en}"
    lines = [
        f"Phản ánh {code} của bạn đã chuyển sang trạng thái: {label.label_vi}.",
        f"Your report {code} is now: {label.label_en}.",
    ]
    if report.resolution and to_status in (Status.resolved, Status.closed):
        lines.append(f"Kết quả / Result: {report.resolution}")
    if link:
        lines.append(f"Theo dõi / Track it: {link}")
    return subject, "\n".join(lines)


def send_notices(db: Database, settings: Settings, event: StatusChanged) -> int:
    """Queue the notices of one status change; return how many deliveries were queued."""
    if event.to_status in QUIET:
        return 0
    with db.session() as session:
        report = session.get(Report, event.report_id)
        if report is None:
            return 0
        base = settings.notify.base_url
        link = f"{base.rstrip('/')}/public/track/{report.tracking_code}" if base else None
        subject, body = message(report, event.to_status, link)
        return notify_contacts(
            session,
            settings.notify,
            contacts_of(session, report),
            topic=TOPIC,
            subject=subject,
            body=body,
            link=link,
            phone_webhook=settings.field_reports.notice_webhook,
        )


def notice_handler(db: Database, settings: Settings) -> Callable[[StatusChanged], Awaitable[None]]:
    """The bus handler (the database work runs in a worker thread)."""

    async def handle(event: StatusChanged) -> None:
        await run_in_threadpool(send_notices, db, settings, event)

    return handle
