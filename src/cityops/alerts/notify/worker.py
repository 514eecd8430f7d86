"""The delivery worker: sends due e-mail and webhook deliveries with retries and backoff.

Bus handlers and notify() only insert rows; this worker, started from the app's lifespan,
claims due rows, sends them concurrently (bounded, each with its own timeout, so a slow
target holds up nothing else), and records the outcome: sent, failed (retry later with
exponential backoff) or dead after CITYOPS_NOTIFY__MAX_ATTEMPTS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cityops.alerts.notify.choices import DUE, Channel, DeliveryStatus
from cityops.alerts.notify.models import Delivery, WebhookTarget
from cityops.alerts.notify.webhooks import WebhookRefused, check_url, render_body
from cityops.core.config import NotifySettings
from cityops.core.db import Database, utcnow

log = logging.getLogger("cityops.notify")


@dataclass(frozen=True)
class Job:
    """A claimed delivery and what it needs to be sent (read before the session closes)."""

    id: int
    channel: str
    recipient: str | None
    subject: str
    body: str
    link: str | None
    context: dict[str, Any]
    url: str | None = None
    template: str | None = None
    headers: dict[str, str] | None = None


class DeliveryError(Exception):
    """One attempt failed (the message says why)."""


def _job(row: Delivery, target: WebhookTarget | None) -> Job:
    context = {
        "topic": row.topic,
        "severity": row.severity,
        "subject": row.subject,
        "body": row.body,
        "link": row.link,
        "recipient": row.recipient,
        "language": row.language,
        "unit_id": row.unit_id,
        "created_at": row.created_at.isoformat(),
    }
    return Job(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        link=row.link,
        context=context,
        url=target.url if target else None,
        template=target.template if target else None,
        headers=dict(target.headers or {}) if target else None,
    )


def send_email(cfg: NotifySettings, job: Job) -> None:
    """Send one e-mail over SMTP (blocking: run it in a thread)."""
    if not cfg.smtp_host or not job.recipient:
        raise DeliveryError("e-mail is not configured (CITYOPS_NOTIFY__SMTP_HOST)")
    msg = EmailMessage()
    msg["From"] = cfg.smtp_from
    msg["To"] = job.recipient
    msg["Subject"] = job.subject
    msg.set_content(job.body + (f"\n\n{job.link}" if job.link else ""))
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.smtp_timeout_s) as smtp:
            if cfg.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"SMTP: {err}") from err


def url_problem(cfg: NotifySettings, url: str) -> str | None:
    """Say why a webhook URL may not be called now (its address may have turned internal)."""
    try:
        check_url(url, cfg.webhook_allowlist, must_resolve=True)
    except WebhookRefused as err:
        return str(err)
    return None


async def send_webhook(client: httpx.AsyncClient, job: Job, problem: str | None) -> None:
    """POST the rendered JSON body to the target, unless its address was refused."""
    if job.url is None or job.template is None:
        raise DeliveryError("the webhook target is gone")
    if problem is not None:
        raise DeliveryError(problem)
    try:
        body = render_body(job.template, job.context)
    except ValueError as err:
        raise DeliveryError(str(err)) from err
    try:
        resp = await client.post(job.url, json=body, headers=job.headers or {})
    except httpx.HTTPError as err:
        raise DeliveryError(f"{type(err).__name__}: {err or 'timed out'}") from err
    if resp.status_code >= 300:
        raise DeliveryError(f"HTTP {resp.status_code}: {resp.text[:300]}")


def backoff(cfg: NotifySettings, attempts: int) -> timedelta:
    """Return the wait after the given number of failed attempts (doubling, capped)."""
    return timedelta(seconds=min(cfg.backoff_s * 2 ** max(attempts - 1, 0), cfg.backoff_max_s))


class DeliveryWorker:
    """Claims due deliveries and sends them; wake() makes it look at once."""

    def __init__(
        self, db: Database, cfg: NotifySettings, on_result: Callable[[str, str], None] | None = None
    ) -> None:
        self.db = db
        self.cfg = cfg
        self._wake = asyncio.Event()
        self._on_result = on_result
        self._lease = timedelta(seconds=max(cfg.smtp_timeout_s, cfg.webhook_timeout_s) * 3 + 30)

    def wake(self) -> None:
        """Ask the worker to look for due deliveries now (call on the event loop)."""
        self._wake.set()

    def _claim(self, now: datetime, limit: int) -> list[Job]:
        with self.db.session() as session:
            rows = session.scalars(
                select(Delivery)
                .where(Delivery.status.in_(list(DUE)), Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            jobs = []
            for row in rows:
                row.next_attempt_at = now + self._lease  # another worker leaves it alone
                target = session.get(WebhookTarget, row.webhook_id) if row.webhook_id else None
                jobs.append(_job(row, target))
            return jobs

    def _finish(self, results: list[tuple[Job, str | None]], now: datetime) -> list[str]:
        """Record a round's outcomes in one transaction; return each delivery's new status."""
        statuses = []
        with self.db.session() as session:
            for job, error in results:
                row = session.get(Delivery, job.id)
                if row is None:
                    statuses.append("gone")
                    continue
                row.attempts += 1
                row.last_error = error
                if error is None:
                    row.status, row.sent_at = DeliveryStatus.sent, max(now, utcnow())
                elif row.attempts >= self.cfg.max_attempts:
                    row.status = DeliveryStatus.dead
                    log.warning(
                        "delivery %s is dead after %s attempts: %s", row.id, row.attempts, error
                    )
                else:
                    row.status = DeliveryStatus.failed
                    row.next_attempt_at = now + backoff(self.cfg, row.attempts)
                statuses.append(row.status)
        return statuses

    async def _send(
        self,
        client: httpx.AsyncClient,
        job: Job,
        sem: asyncio.Semaphore,
        problems: dict[str, str | None],
    ) -> tuple[Job, str | None]:
        """Make one attempt, bounded by the channel's timeout; return the job and its error."""
        email = job.channel == Channel.email
        limit = 2 * (self.cfg.smtp_timeout_s if email else self.cfg.webhook_timeout_s)
        async with sem:
            try:
                if email:
                    await asyncio.wait_for(asyncio.to_thread(send_email, self.cfg, job), limit)
                else:
                    problem = problems.get(job.url or "")
                    await asyncio.wait_for(send_webhook(client, job, problem), limit)
            except DeliveryError as err:
                return job, str(err)
            except TimeoutError:
                return job, f"timed out after {limit:g} s"
            except Exception as err:  # a bug in one delivery must not stop the others
                log.exception("delivery %s crashed", job.id)
                return job, f"internal error: {type(err).__name__}"
        return job, None

    async def _check_urls(self, jobs: list[Job]) -> dict[str, str | None]:
        urls = sorted({j.url for j in jobs if j.url and j.channel == Channel.webhook})
        found = await asyncio.gather(*(asyncio.to_thread(url_problem, self.cfg, u) for u in urls))
        return dict(zip(urls, found, strict=True))

    async def run_once(self, now: datetime | None = None) -> int:
        """Send every delivery due at `now` (one round); return how many were attempted."""
        now = now or utcnow()
        jobs = await asyncio.to_thread(self._claim, now, self.cfg.concurrency * 8)
        if not jobs:
            return 0
        problems = await self._check_urls(jobs)  # once per address and round, not per message
        sem = asyncio.Semaphore(self.cfg.concurrency)
        timeout = httpx.Timeout(self.cfg.webhook_timeout_s)
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            results = await asyncio.gather(*(self._send(client, j, sem, problems) for j in jobs))
        statuses = await asyncio.to_thread(self._finish, list(results), now)
        if self._on_result:
            for (job, _), status in zip(results, statuses, strict=True):
                self._on_result(job.channel, status)
        return len(jobs)

    async def run_forever(self) -> None:
        """Loop: send what is due, then wait for a wake-up or the interval."""
        while True:
            try:
                while await self.run_once() >= self.cfg.concurrency * 8:
                    pass  # a full batch: there may be more
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery worker round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.cfg.worker_interval_s)
            self._wake.clear()


@contextlib.asynccontextmanager
async def run_worker(app: FastAPI) -> AsyncIterator[None]:
    """Run the app's delivery worker while it serves (a lifespan hook)."""
    worker: DeliveryWorker = app.state.notify_worker
    if not app.state.settings.notify.worker_enabled:
        yield
        return
    task = asyncio.create_task(worker.run_forever(), name="notify-worker")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
