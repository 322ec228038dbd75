"""Workers share a mesh: shard leases, the live workers, a run's slot, and skipped runs.

`probe_result.slot` numbers the scheduled run a result answers; with (product, port) it is
unique, so a run is stored once even when two workers made it during a hand-over.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NAME = 200


def upgrade() -> None:
    op.add_column("probe_result", sa.Column("slot", sa.BigInteger, nullable=True))
    op.create_index("uq_probe_result_slot", "probe_result", ["product", "port", "slot"], unique=True)
    op.create_table(
        "skipped_run",
        sa.Column("product", sa.String(NAME), primary_key=True),
        sa.Column("port", sa.String(NAME), primary_key=True),
        sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("runs", sa.BigInteger, nullable=False))
    op.create_table(
        "worker",
        sa.Column("id", sa.String(NAME), primary_key=True),
        sa.Column("host", sa.String(NAME), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("seen_at", UtcDateTime, nullable=False),
        sa.Column("load", sa.JSON, nullable=True))
    op.create_table(
        "shard_lease",
        sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(NAME), nullable=True),
        sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("acquired_at", UtcDateTime, nullable=True),
        sa.Column("expires_at", UtcDateTime, nullable=True))


def downgrade() -> None:
    op.drop_table("shard_lease")
    op.drop_table("worker")
    op.drop_table("skipped_run")
    op.drop_index("uq_probe_result_slot", table_name="probe_result")
    with op.batch_alter_table("probe_result") as batch:
        batch.drop_column("slot")
