"""Alerts: rules, rule state, alerts and their timeline

Revision ID: 0007_alerts
Revises: 0006_indicators
Create Date: 2026-11-24 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401  (autogenerate writes Text() for JSONB)
from sqlalchemy.dialects import postgresql

import cityops.core.db

revision: str = "0007_alerts"
down_revision: str | Sequence[str] | None = "0006_indicators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("auto_clear", sa.Boolean(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("entity_type", sa.String(length=200), nullable=True),
        sa.Column("event_name", sa.String(length=200), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("title_vi", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_alert_rules_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_alert_rules_code")),
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rules_enabled"), ["enabled"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_rules_entity_type"), ["entity_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_rules_event_name"), ["event_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rules_kind"), ["kind"], unique=False)

    op.create_table(
        "alert_rule_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=300), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("pending_since", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_rule_state_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_alert_rule_state_unit_id_units"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule_state")),
        sa.UniqueConstraint("rule_id", "source_id", name=op.f("uq_alert_rule_state_rule_id")),
    )
    with op.batch_alter_table("alert_rule_state", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_rule_state_last_seen"), ["last_seen"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alert_rule_state_pending_since"), ["pending_since"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_rule_state_rule_id"), ["rule_id"], unique=False)

    op.create_table(
        "alert_rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_rule_versions_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule_versions")),
        sa.UniqueConstraint("rule_id", "version", name=op.f("uq_alert_rule_versions_rule_id")),
    )
    with op.batch_alter_table("alert_rule_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_rule_versions_rule_id"), ["rule_id"], unique=False
        )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=300), nullable=False),
        sa.Column("dedup_key", sa.String(length=400), nullable=False),
        sa.Column("active_key", sa.String(length=400), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title_vi", sa.String(length=500), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("assignee_agency_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_triggered_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger_count", sa.Integer(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", cityops.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_agency_id"],
            ["agencies.id"],
            name=op.f("fk_alerts_assignee_agency_id_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["users.id"],
            name=op.f("fk_alerts_assignee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alerts_rule_id_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_alerts_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("active_key", name=op.f("uq_alerts_active_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alerts_assignee_agency_id"), ["assignee_agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alerts_assignee_user_id"), ["assignee_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alerts_dedup_key"), ["dedup_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", cityops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=250), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_alert_events_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_events_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_events_alert_id"), ["alert_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_events_alert_id"))

    op.drop_table("alert_events")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_unit_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_severity"))
        batch_op.drop_index(batch_op.f("ix_alerts_rule_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_raised_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_dedup_key"))
        batch_op.drop_index(batch_op.f("ix_alerts_assignee_user_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_assignee_agency_id"))

    op.drop_table("alerts")
    with op.batch_alter_table("alert_rule_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_versions_rule_id"))

    op.drop_table("alert_rule_versions")
    with op.batch_alter_table("alert_rule_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_state_rule_id"))
        batch_op.drop_index(batch_op.f("ix_alert_rule_state_pending_since"))
        batch_op.drop_index(batch_op.f("ix_alert_rule_state_last_seen"))

    op.drop_table("alert_rule_state")
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rules_kind"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_event_name"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_entity_type"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_enabled"))

    op.drop_table("alert_rules")
