"""Each port's latest schema findings: `port_state.schema_mismatch`, the declared columns (or JSON
fields) its latest look found missing or retyped; NULL when no look compared a schema.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("port_state", sa.Column("schema_mismatch", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("port_state") as batch:
        batch.drop_column("schema_mismatch")
