"""Probe results, the latest state of each port, and pipeline heartbeats.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probe_result",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("port", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("newest_data_at", UtcDateTime, nullable=True),
        sa.Column("total", sa.BigInteger, nullable=True),
        sa.Column("failed", sa.BigInteger, nullable=True),
        sa.Column("error_class", sa.String(40), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("details", sa.JSON, nullable=True),
    )
    op.create_index("ix_probe_result_port_time", "probe_result", ["product", "port", "started_at"])
    op.create_table(
        "heartbeat",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("port", sa.String(200), nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("run_id", sa.String(200), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_index("ix_heartbeat_port_time", "heartbeat", ["product", "port", "received_at"])
    op.create_table(
        "port_state",
        sa.Column("product", sa.String(200), primary_key=True),
        sa.Column("port", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("last_started_at", UtcDateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("newest_data_at", UtcDateTime, nullable=True),
        sa.Column("error_class", sa.String(40), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("failing_since", UtcDateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("port_state")
    op.drop_table("heartbeat")
    op.drop_table("probe_result")
