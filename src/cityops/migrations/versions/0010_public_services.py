"""Public services: dossiers from the one-stop system, procedures, Decision 766 figures

Revision ID: 0010_public_services
Revises: 0009_field_reports_more
Create Date: 2026-11-24 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cityops.core.db  # noqa: F401

revision: str = "0010_public_services"
down_revision: str | Sequence[str] | None = "0009_field_reports_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
