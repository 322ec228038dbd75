"""History at bounded cost: a day tier, downtime minutes in the hours, tier horizons, and (on
PostgreSQL) the minute and hour counts partitioned by time.

- `event_day`: the counts per UTC day, filled from the hours already stored.
- `event_hour.bad_mask` / `seen_mask`: which minutes of the hour held a bad event / any event,
  filled from the minutes.
- `tier_horizon`: the oldest bucket a pruned tier still holds.
- PostgreSQL: `event_minute` (per day) and `event_hour` (per month) become partitioned tables
  (store/partitions.py); their rows are copied into partitions made for them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from monitor.store import partitions

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COUNTS = "series_id INTEGER NOT NULL, {bucket} BIGINT NOT NULL, good BIGINT NOT NULL, total BIGINT NOT NULL"
# the bad minutes of each hour, from the minute rows: every minute is once in its series, so the
# sum of their bits is their OR
MASKS = ("SELECT series_id, (minute + 59) / 60 AS hour, "
         "CAST(sum(CASE WHEN good < total THEN {one} << {shift} ELSE 0 END) AS BIGINT) AS mask, "
         "CAST(sum(CASE WHEN total > 0 THEN {one} << {shift} ELSE 0 END) AS BIGINT) AS seen "
         "FROM {source} GROUP BY series_id, (minute + 59) / 60")


def _sql(connection, statement: str):
    return connection.execute(sa.text(statement))


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "event_day",
        sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("good", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False)
    op.create_table(
        "tier_horizon",
        sa.Column("tier", sa.String(20), primary_key=True),
        sa.Column("first", sa.BigInteger, nullable=False))
    if connection.dialect.name == "postgresql":
        _partition(connection)
    else:
        for mask in ("bad_mask", "seen_mask"):
            op.add_column("event_hour", sa.Column(mask, sa.BigInteger, nullable=False,
                                                  server_default="0"))
        _sql(connection,
            "UPDATE event_hour SET bad_mask = m.mask, seen_mask = m.seen FROM (" + MASKS.format(
                one="1", shift="((minute - 1) % 60)", source="event_minute") + ") AS m "
            "WHERE m.series_id = event_hour.series_id AND m.hour = event_hour.hour")
    _sql(connection,
        "INSERT INTO event_day (series_id, day, good, total) SELECT series_id, (hour + 23) / 24, "
        "sum(good), sum(total) FROM event_hour GROUP BY series_id, (hour + 23) / 24")


def _partition(connection) -> None:
    """Rename the plain tables aside, create the partitioned ones with partitions for every row,
    copy the rows across (the hours with their bad minutes), drop the old tables."""
    for table in partitions.PARTITIONED:
        _sql(connection, f"ALTER TABLE {table.table} RENAME TO {table.table}_old")
        _sql(connection, f"ALTER TABLE {table.table}_old RENAME CONSTRAINT "
                                   f"{table.table}_pkey TO {table.table}_old_pkey")
        columns = COUNTS.format(bucket=table.column)
        if table is partitions.HOURS:
            columns += ", bad_mask BIGINT NOT NULL DEFAULT 0, seen_mask BIGINT NOT NULL DEFAULT 0"
        partitions.create_partitioned(connection, table, columns)
        first, last = _sql(connection,
            f"SELECT min({table.column}), max({table.column}) FROM {table.table}_old").one()
        if first is not None:
            partitions.ensure(connection, table, first, last)
    _sql(connection,
        "INSERT INTO event_minute (series_id, minute, good, total) "
        "SELECT series_id, minute, good, total FROM event_minute_old")
    _sql(connection,
        "INSERT INTO event_hour (series_id, hour, good, total, bad_mask, seen_mask) "
        "SELECT h.series_id, h.hour, h.good, h.total, coalesce(m.mask, 0), coalesce(m.seen, 0) "
        "FROM event_hour_old h "
        "LEFT JOIN (" + MASKS.format(one="CAST(1 AS BIGINT)", shift="CAST((minute - 1) % 60 AS INTEGER)",
                                     source="event_minute_old") + ") m "
        "ON m.series_id = h.series_id AND m.hour = h.hour")
    for table in partitions.PARTITIONED:
        _sql(connection, f"DROP TABLE {table.table}_old")


def downgrade() -> None:
    raise NotImplementedError("0006 is not reversible: restore a backup taken before upgrading")
