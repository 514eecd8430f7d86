"""Field reports: duplicates and merges, blocked reporters, tracking-code secrets

Revision ID: 0009_field_reports_more
Revises: 0008_incidents_notify
Create Date: 2026-11-24 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cityops.core.db  # noqa: F401

revision: str = "0009_field_reports_more"
down_revision: str | Sequence[str] | None = "0008_incidents_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
