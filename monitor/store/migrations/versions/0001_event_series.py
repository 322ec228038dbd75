"""Event series with per-minute and per-hour counts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("objective", sa.String(200), nullable=False),
        sa.Column("last_event_minute", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("product", "objective", name="uq_series_objective"),
    )
    for table, bucket in (("event_minute", "minute"), ("event_hour", "hour")):
        op.create_table(
            table,
            sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column(bucket, sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("good", sa.BigInteger, nullable=False),
            sa.Column("total", sa.BigInteger, nullable=False),
            sqlite_with_rowid=False,
        )


def downgrade() -> None:
    op.drop_table("event_hour")
    op.drop_table("event_minute")
    op.drop_table("series")
