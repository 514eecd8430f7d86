"""Field reports: photo thumbnails made on first view (fr_photos.thumb_key may be empty)

Revision ID: 0015_fr_photos
Revises: 0014_fr_daily_stats
Create Date: 2026-11-24 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_fr_photos"
down_revision: str | Sequence[str] | None = "0014_fr_daily_stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Let a photo have no stored thumbnail key (new photos keep theirs in the file store)."""
    with op.batch_alter_table("fr_photos") as batch:
        batch.alter_column("thumb_key", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    """Require a thumbnail key again (photos without one point at their full-size file)."""
    op.execute("UPDATE fr_photos SET thumb_key = file_key WHERE thumb_key IS NULL")
    with op.batch_alter_table("fr_photos") as batch:
        batch.alter_column("thumb_key", existing_type=sa.String(length=64), nullable=False)
