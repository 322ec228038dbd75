"""Alerts, their history, the notification outbox and silences.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("objective", sa.String(200), nullable=False),
        sa.Column("condition", sa.String(60), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("episode", sa.Integer, nullable=False),
        sa.Column("since", UtcDateTime, nullable=True),
        sa.Column("fired_at", UtcDateTime, nullable=True),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("last_sent_at", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=True),
        sa.Column("measured", sa.JSON, nullable=True),
        sa.UniqueConstraint("product", "objective", "condition", name="uq_alert_identity"),
    )
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alert.id"), nullable=False),
        sa.Column("episode", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("measured", sa.JSON, nullable=True),
        sa.Column("promised", sa.JSON, nullable=True),
        sa.Column("muted_by", sa.String(200), nullable=True),
        sa.Column("told", sa.JSON, nullable=True),
        sa.UniqueConstraint("alert_id", "episode", "kind", "at", name="uq_alert_event"),
    )
    op.create_index("ix_alert_event_alert", "alert_event", ["alert_id", "at"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_key", sa.String(300), nullable=False),
        sa.Column("destination", sa.String(500), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=True),
        sa.Column("claim_token", sa.String(64), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_until", UtcDateTime, nullable=True),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("muted_by", sa.String(200), nullable=True),
        sa.Column("recipients", sa.JSON, nullable=True),
        sa.Column("event_ids", sa.JSON, nullable=True),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.UniqueConstraint("group_key", "destination", name="uq_notification_once"),
    )
    op.create_index("ix_notification_due", "notification", ["status", "next_attempt_at"])
    op.create_table(
        "silence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("objective", sa.String(200), nullable=True),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("silence")
    op.drop_table("notification")
    op.drop_table("alert_event")
    op.drop_table("alert")
