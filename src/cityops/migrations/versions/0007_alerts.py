"""Alerts: rules, rule state, alerts and their timeline

Revision ID: 0007_alerts
Revises: 0006_indicators
Create Date: 2026-11-24 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cityops.core.db  # noqa: F401

revision: str = "0007_alerts"
down_revision: str | Sequence[str] | None = "0006_indicators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
