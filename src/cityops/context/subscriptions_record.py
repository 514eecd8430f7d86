"""The delivery record of NGSI-LD subscriptions (GS CIM 009 5.2.15): how many notifications
went out or failed, when, and why the last one failed. The notifier counts outcomes in memory
(Tally) and writes them in batches; a read shows the stored record plus what is not yet
written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cityops.context.subscriptions_models import ContextSubscription


@dataclass
class Tally:
    """Delivery outcomes of one subscription not yet written to the database."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0
    consecutive: int | None = None  # failures in a row, when it changed
    last_notification: datetime | None = None
    last_success: datetime | None = None
    last_failure: datetime | None = None
    last_error: str | None = None


def delivery_record(row: ContextSubscription, tally: Tally | None) -> dict[str, Any]:
    """Return the notification status members: the stored record plus what is not yet written."""
    t = tally or Tally()
    errors = row.consecutive_errors if t.consecutive is None else t.consecutive
    sent, failed = row.times_sent + t.sent, row.times_failed + t.failed
    return {
        # status tells how the last notification went: none yet, no status (GS CIM 009
        # 5.2.15); the counters show once they count something
        "status": ("failed" if errors else "ok") if sent or failed else None,
        "timesSent": sent or None,
        "timesFailed": failed or None,
        "timesDropped": (row.times_dropped + t.dropped) or None,
        "consecutiveErrors": errors or None,
        "lastNotification": t.last_notification or row.last_notification,
        "lastSuccess": t.last_success or row.last_success,
        "lastFailure": t.last_failure or row.last_failure,
        "lastErrorReason": t.last_error or row.last_error,
    }


def write_tallies(session: Session, tallies: dict[tuple[str, str], Tally]) -> None:
    """Add delivery outcomes to the stored record of each subscription."""
    t = ContextSubscription
    for (tenant, sub_id), tally in tallies.items():
        values: dict[str, Any] = {
            "times_sent": t.times_sent + tally.sent,
            "times_failed": t.times_failed + tally.failed,
            "times_dropped": t.times_dropped + tally.dropped,
        }
        for name in ("last_notification", "last_success", "last_failure", "last_error"):
            if getattr(tally, name) is not None:
                values[name] = getattr(tally, name)
        if tally.consecutive is not None:
            values["consecutive_errors"] = tally.consecutive
        session.execute(sa.update(t).where(t.tenant == tenant, t.sub_id == sub_id).values(**values))
