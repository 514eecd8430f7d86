"""Channels, delivery statuses and webhook presets of notifications, in both languages."""

from __future__ import annotations

from enum import StrEnum

from cityops.core.choices import Choice, choice_set


class Channel(StrEnum):
    """Where a notification goes."""

    in_app = "in_app"
    email = "email"
    webhook = "webhook"


CHANNELS: dict[str, Choice] = choice_set(
    Choice(Channel.in_app, "Trong ứng dụng", "In the app", "#0d6efd"),
    Choice(Channel.email, "Thư điện tử", "E-mail", "#6610f2"),
    Choice(
        Channel.webhook, "Webhook (Zalo, Telegram, SMS)", "Webhook (Zalo, Telegram, SMS)", "#20c997"
    ),
)


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
    dead = "dead"


DELIVERY_STATUSES: dict[str, Choice] = choice_set(
    Choice(DeliveryStatus.pending, "Chờ gửi", "Pending", "#6c757d"),
    Choice(DeliveryStatus.sent, "Đã gửi", "Sent", "#198754"),
    Choice(DeliveryStatus.failed, "Lỗi, sẽ gửi lại", "Failed, will retry", "#fd7e14"),
    Choice(DeliveryStatus.dead, "Không gửi được", "Dead letter", "#dc3545"),
)

# Deliveries the worker still has to send.
DUE = frozenset({DeliveryStatus.pending, DeliveryStatus.failed})


class Preset(StrEnum):
    """Ready-made webhook body templates."""

    generic = "generic"
    telegram = "telegram"
    zalo_oa = "zalo_oa"
    sms = "sms"


PRESETS: dict[str, Choice] = choice_set(
    Choice(Preset.generic, "JSON chung", "Generic JSON", "#6c757d"),
    Choice(Preset.telegram, "Bot Telegram", "Telegram bot", "#229ed9"),
    Choice(Preset.zalo_oa, "Zalo OA", "Zalo Official Account", "#0068ff"),
    Choice(Preset.sms, "Cổng SMS", "SMS gateway", "#198754"),
)
