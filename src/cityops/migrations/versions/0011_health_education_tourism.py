"""Health, education and tourism: case counts, facility figures, school and tourism statistics

Revision ID: 0011_health_education_tourism
Revises: 0010_public_services
Create Date: 2026-11-24 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cityops.core.db  # noqa: F401

revision: str = "0011_health_education_tourism"
down_revision: str | Sequence[str] | None = "0010_public_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
