"""Webhook targets: admin-managed endpoints, their body templates, and the SSRF guard."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.alerts.notify.choices import Preset
from cityops.alerts.notify.models import WebhookTarget
from cityops.alerts.notify.schemas import WebhookCreate, WebhookPublic, WebhookUpdate
from cityops.core import audit, netguard
from cityops.core.errors import Conflict, InvalidInput, NotFound
from cityops.core.policy import Perm, Principal, authorize

# The message text most presets send: subject, body and link on separate lines.
_TEXT = "{{ subject }}{% if body %}\n{{ body }}{% endif %}{% if link %}\n{{ link }}{% endif %}"

PRESET_TEMPLATES: dict[str, str] = {
    Preset.generic: (
        '{"topic": {{ topic|tojson }}, "severity": {{ severity|tojson }}, '
        '"subject": {{ subject|tojson }}, "body": {{ body|tojson }}, "link": {{ link|tojson }}, '
        '"recipient": {{ recipient|tojson }}, "language": {{ language|tojson }}, '
        '"unit_id": {{ unit_id|tojson }}, "created_at": {{ created_at|tojson }}}'
    ),
    # POST https://api.telegram.org/bot<TOKEN>/sendMessage; recipient = chat id
    Preset.telegram: (
        '{"chat_id": {{ recipient|tojson }}, "text": {{ text|tojson }}, '
        '"disable_web_page_preview": true}'
    ),
    # POST https://openapi.zalo.me/v3.0/oa/message/cs with an `access_token` header
    Preset.zalo_oa: (
        '{"recipient": {"user_id": {{ recipient|tojson }}}, "message": {"text": {{ text|tojson }}}}'
    ),
    # A generic SMS gateway: recipient = phone number; 160 characters
    Preset.sms: (
        '{"to": {{ recipient|tojson }}, "message": {{ text|truncate(160, true, "…")|tojson }}}'
    ),
}

SAMPLE_CONTEXT: dict[str, Any] = {
    "topic": "alerts.alert_raised",
    "severity": "major",
    "subject": "Cảnh báo ngập: mực nước vượt báo động 2",
    "body": "Trạm Cà Ty, phường Phan Thiết",
    "link": "https://ioc.example/alerts/1",
    "recipient": "12345",
    "language": "vi",
    "unit_id": 1,
    "created_at": "2026-01-01T00:00:00+00:00",
}

_env = SandboxedEnvironment(autoescape=False)


WebhookRefused = netguard.OutboundRefused  # the webhook's address may not be called


@lru_cache(maxsize=256)
def _compiled(template: str) -> Template:
    return _env.from_string(template)


def render_body(template: str, context: dict[str, Any]) -> Any:
    """Render a body template in the sandbox and parse it as JSON (ValueError if it is not)."""
    ctx = dict(context)
    ctx.setdefault("text", _compiled(_TEXT).render(**ctx))
    try:
        rendered = _compiled(template).render(**ctx)
    except TemplateError as err:
        raise ValueError(f"template error: {err}") from err
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as err:
        raise ValueError(f"the template does not render JSON: {err}") from err


def check_url(url: str, allowlist: list[str], *, must_resolve: bool) -> None:
    """Refuse a webhook URL whose host is internal (loopback, private, ...) unless allowlisted."""
    netguard.check_url(
        url, allowlist, must_resolve=must_resolve, setting="CITYOPS_NOTIFY__WEBHOOK_ALLOWLIST"
    )


def public(target: WebhookTarget) -> WebhookPublic:
    """Describe a target without its header values."""
    return WebhookPublic(
        id=target.id,
        name=target.name,
        preset=target.preset,
        url=target.url,
        template=target.template,
        header_names=sorted(target.headers or {}),
        is_active=target.is_active,
        created_at=target.created_at,
        updated_at=target.updated_at,
    )


def _snapshot(target: WebhookTarget) -> dict[str, Any]:
    snap = audit.snapshot(target)
    snap["headers"] = sorted(target.headers or {})
    return snap


def _validate(url: str, template: str, allowlist: list[str]) -> None:
    try:
        check_url(url, allowlist, must_resolve=False)
    except WebhookRefused as err:
        raise InvalidInput(str(err), code="webhook_target_refused") from err
    try:
        render_body(template, SAMPLE_CONTEXT)
    except ValueError as err:
        raise InvalidInput(str(err), code="invalid_template") from err


def _clash(session: Session, name: str, own_id: int | None = None) -> None:
    other = session.scalar(select(WebhookTarget).where(WebhookTarget.name == name))
    if other is not None and other.id != own_id:
        raise Conflict(f"A webhook named {name!r} exists", code="duplicate_name")


def list_targets(session: Session, principal: Principal) -> list[WebhookTarget]:
    """List every webhook target (admins)."""
    authorize(principal, Perm.users_manage, check_unit=False)
    return list(session.scalars(select(WebhookTarget).order_by(WebhookTarget.name)))


def get_target(session: Session, principal: Principal, target_id: int) -> WebhookTarget:
    """Fetch one webhook target (admins)."""
    authorize(principal, Perm.users_manage, check_unit=False)
    target = session.get(WebhookTarget, target_id)
    if target is None:
        raise NotFound(f"No webhook {target_id}")
    return target


def create_target(
    session: Session, principal: Principal, data: WebhookCreate, allowlist: list[str]
) -> WebhookTarget:
    """Create a webhook target after checking its address and template."""
    authorize(principal, Perm.users_manage, check_unit=False)
    template = data.template or PRESET_TEMPLATES[data.preset]
    _validate(data.url, template, allowlist)
    _clash(session, data.name)
    target = WebhookTarget(
        name=data.name,
        preset=data.preset.value,
        url=data.url,
        template=template,
        headers=data.headers,
        is_active=data.is_active,
    )
    session.add(target)
    session.flush()
    audit.record(
        session, principal, "webhook.create", "webhook", target.id, after=_snapshot(target)
    )
    return target


def update_target(
    session: Session,
    principal: Principal,
    target_id: int,
    data: WebhookUpdate,
    allowlist: list[str],
) -> WebhookTarget:
    """Change a webhook target; a new preset without a template takes the preset's template."""
    target = get_target(session, principal, target_id)
    before = _snapshot(target)
    changes = data.model_dump(exclude_unset=True)
    if "preset" in changes and "template" not in changes:
        changes["template"] = PRESET_TEMPLATES[changes["preset"]]
    if changes.get("name"):
        _clash(session, changes["name"], target.id)
    _validate(
        changes.get("url") or target.url, changes.get("template") or target.template, allowlist
    )
    for key, value in changes.items():
        if value is not None:
            setattr(target, key, value.value if isinstance(value, Preset) else value)
    session.flush()
    audit.record(
        session,
        principal,
        "webhook.update",
        "webhook",
        target.id,
        before=before,
        after=_snapshot(target),
    )
    return target


def delete_target(session: Session, principal: Principal, target_id: int) -> None:
    """Delete a webhook target (its pending deliveries go with it)."""
    target = get_target(session, principal, target_id)
    audit.record(
        session, principal, "webhook.delete", "webhook", target.id, before=_snapshot(target)
    )
    session.delete(target)
    session.flush()
