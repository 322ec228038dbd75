"""An alert is an objective at a severity: one page and one ticket alert per objective, each
listing the conditions that hold in it, resolving after `keep_firing_for` of quiet.

Existing per-condition alerts of one (product, objective, severity) are folded into one: the
most active one stays (firing, then pending, then resolved), takes the others' conditions and
the history that does not collide with its own; the rest of their history goes with them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RANK = {"firing": 0, "pending": 1, "resolved": 2, "inactive": 3}


def upgrade() -> None:
    # plain ADD COLUMN and CREATE INDEX: no table copy, which SQLite's foreign keys would refuse
    op.add_column("alert", sa.Column("conditions", sa.JSON, nullable=True))
    op.add_column("alert", sa.Column("clear_since", UtcDateTime, nullable=True))
    op.add_column("alert", sa.Column("told", sa.Boolean, nullable=False,
                                     server_default=sa.false()))
    connection = op.get_bind()
    alert = sa.table("alert", sa.column("id"), sa.column("product"), sa.column("objective"),
                     sa.column("condition"), sa.column("severity"), sa.column("state"),
                     sa.column("last_sent_at"), sa.column("conditions", sa.JSON),
                     sa.column("told"))
    event = sa.table("alert_event", sa.column("id"), sa.column("alert_id"), sa.column("episode"),
                     sa.column("kind"), sa.column("at"))
    groups: dict[tuple, list] = {}
    for row in connection.execute(sa.select(alert).order_by(alert.c.id)):
        groups.setdefault((row.product, row.objective, row.severity), []).append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: (RANK.get(r.state, 9), r.id))
        keep, others = rows[0], rows[1:]
        active = [r.condition for r in rows if r.state in ("firing", "pending")]
        connection.execute(alert.update().where(alert.c.id == keep.id).values(
            conditions=active or [keep.condition], told=keep.last_sent_at is not None))
        for other in others:
            taken = {(e.episode, e.kind, e.at) for e in connection.execute(
                sa.select(event).where(event.c.alert_id == keep.id))}
            for e in connection.execute(sa.select(event).where(event.c.alert_id == other.id)):
                if (e.episode, e.kind, e.at) in taken:
                    connection.execute(event.delete().where(event.c.id == e.id))
                else:
                    connection.execute(event.update().where(event.c.id == e.id)
                                       .values(alert_id=keep.id))
                    taken.add((e.episode, e.kind, e.at))
            connection.execute(alert.delete().where(alert.c.id == other.id))
    # the identity; (product, objective, condition) stays unique too: a condition belongs to
    # one severity, and `condition` is the one that opened the alert's episode
    op.create_index("uq_alert_severity", "alert", ["product", "objective", "severity"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_alert_severity", table_name="alert")
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("told")
        batch.drop_column("clear_since")
        batch.drop_column("conditions")
