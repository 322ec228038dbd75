"""The store's tables. Time-series counts are kept per minute, per hour and per day (see
rollups.py); on PostgreSQL the minute and hour tables are partitioned by time (partitions.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from monitor.store.types import UtcDateTime
from monitor.values.limits import NAME_LENGTH


class Series(SQLModel, table=True):
    """One objective's event series."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("product", "objective", name="uq_series_objective"),)
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=NAME_LENGTH)
    objective: str = Field(max_length=NAME_LENGTH)
    last_event_minute: int | None = Field(default=None, sa_column=Column(BigInteger))


class EventMinute(SQLModel, table=True):
    __tablename__ = "event_minute"
    __table_args__ = {"sqlite_with_rowid": False}
    series_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    minute: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    good: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))


class EventHour(SQLModel, table=True):
    """`bad_mask`: bit i set when minute 60·(hour-1) + 1 + i held a bad event (downtime);
    `seen_mask`: when it held any event (measured)."""

    __tablename__ = "event_hour"
    __table_args__ = {"sqlite_with_rowid": False}
    series_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    hour: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    good: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))
    bad_mask: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    seen_mask: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class EventDay(SQLModel, table=True):
    __tablename__ = "event_day"
    __table_args__ = {"sqlite_with_rowid": False}
    series_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    day: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    good: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))


class TierHorizon(SQLModel, table=True):
    """The oldest bucket a pruned tier still holds (`first`, in the tier's own buckets): a window
    reaching further back reads the next coarser tier (rollups.split_window). No row: nothing of
    the tier was ever pruned."""

    __tablename__ = "tier_horizon"
    tier: str = Field(primary_key=True, max_length=20)
    first: int = Field(sa_column=Column(BigInteger, nullable=False))


class ProbeRecord(SQLModel, table=True):
    """One probe result, as measured (for charts, the latest state of a port, freshness age).
    `slot` numbers the scheduled run of the port it answers (None for `meshwatch check`): a run
    is stored once, whichever worker made it, so a hand-over never counts a run twice."""

    __tablename__ = "probe_result"
    __table_args__ = (Index("ix_probe_result_port_time", "product", "port", "started_at"),
                      Index("uq_probe_result_slot", "product", "port", "slot", unique=True))
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=NAME_LENGTH)
    port: str = Field(max_length=NAME_LENGTH)
    slot: int | None = Field(default=None, sa_column=Column(BigInteger))
    kind: str = Field(max_length=40)
    started_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    ok: bool
    latency_ms: float | None = None
    newest_data_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    total: int | None = Field(default=None, sa_column=Column(BigInteger))
    failed: int | None = Field(default=None, sa_column=Column(BigInteger))
    error_class: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_column=Column(Text))
    details: dict | None = Field(default=None, sa_column=Column(JSON))


class SkippedRun(SQLModel, table=True):
    """Scheduled runs of a port that the daemon did not make, or whose result it discarded
    because it was itself overloaded, per minute: the monitor's trouble, never the product's."""

    __tablename__ = "skipped_run"
    product: str = Field(primary_key=True, max_length=NAME_LENGTH)
    port: str = Field(primary_key=True, max_length=NAME_LENGTH)
    minute: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    runs: int = Field(sa_column=Column(BigInteger, nullable=False))


class WorkerRecord(SQLModel, table=True):
    """A live `meshwatch run` process sharing the mesh: seen at each lease renewal, with its load."""

    __tablename__ = "worker"
    id: str = Field(primary_key=True, max_length=NAME_LENGTH)
    host: str = Field(max_length=NAME_LENGTH)
    pid: int
    started_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    seen_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    load: dict | None = Field(default=None, sa_column=Column(JSON))


class ShardLease(SQLModel, table=True):
    """Who probes, evaluates and alerts for the products of one shard, until when. `epoch` grows
    at every change of owner."""

    __tablename__ = "shard_lease"
    shard: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    owner: str | None = Field(default=None, max_length=NAME_LENGTH)
    epoch: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    acquired_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))


class HeartbeatRecord(SQLModel, table=True):
    """A pipeline's report of one run, received on the heartbeat endpoint."""

    __tablename__ = "heartbeat"
    __table_args__ = (Index("ix_heartbeat_port_time", "product", "port", "received_at"),)
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=NAME_LENGTH)
    port: str = Field(max_length=NAME_LENGTH)
    received_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    success: bool
    run_id: str | None = Field(default=None, max_length=NAME_LENGTH)
    message: str | None = Field(default=None, sa_column=Column(Text))


class PortState(SQLModel, table=True):
    """The latest known state of each port: one row per port, updated with every result."""

    __tablename__ = "port_state"
    product: str = Field(primary_key=True, max_length=NAME_LENGTH)
    port: str = Field(primary_key=True, max_length=NAME_LENGTH)
    kind: str = Field(max_length=40)
    last_started_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    ok: bool
    latency_ms: float | None = None
    newest_data_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    error_class: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_column=Column(Text))
    failing_since: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    # the latest schema findings (monitor.contracts.schema): [] when the schema matched, NULL
    # when no result compared one; a result that could not look keeps the previous findings
    schema_mismatch: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))


class AlertRecord(SQLModel, table=True):
    """One alert — an objective at a severity — and its current state; `version` guards updates.
    `condition` is the one that opened the episode (it names the alert for receivers),
    `conditions` those that hold in it now."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("product", "objective", "condition", name="uq_alert_identity"),
                      Index("uq_alert_severity", "product", "objective", "severity", unique=True))
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=NAME_LENGTH)
    objective: str = Field(max_length=NAME_LENGTH)
    condition: str = Field(max_length=60)
    severity: str = Field(max_length=20)
    state: str = Field(max_length=20)  # inactive, pending, firing, resolved
    version: int = 0
    episode: int = 0
    since: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    fired_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    last_sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    updated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    measured: dict | None = Field(default=None, sa_column=Column(JSON))
    conditions: list | None = Field(default=None, sa_column=Column(JSON))
    clear_since: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    told: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))


class AlertEventRecord(SQLModel, table=True):
    """One step in an alert's history, with the values at the time and who was told."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("alert_id", "episode", "kind", "at", name="uq_alert_event"),
                      Index("ix_alert_event_alert", "alert_id", "at"))
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    episode: int
    kind: str = Field(max_length=20)  # an EventKind: pending, firing, updated, reminder, …
    at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    measured: dict | None = Field(default=None, sa_column=Column(JSON))
    promised: dict | None = Field(default=None, sa_column=Column(JSON))
    muted_by: str | None = Field(default=None, max_length=NAME_LENGTH)
    told: list | None = Field(default=None, sa_column=Column(JSON))


class NotificationRecord(SQLModel, table=True):
    """The outbox: one message of one group of alert events to one destination."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("group_key", "destination", name="uq_notification_once"),
                      Index("ix_notification_due", "status", "next_attempt_at"))
    id: int | None = Field(default=None, primary_key=True)
    group_key: str = Field(max_length=300)
    destination: str = Field(max_length=500)  # channel:NAME, email:ADDR, webhook:URL, apprise:URL
    product: str = Field(max_length=NAME_LENGTH)
    status: str = Field(max_length=20)  # pending, sending, sent, failed, muted
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_by: str | None = Field(default=None, max_length=NAME_LENGTH)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    muted_by: str | None = Field(default=None, max_length=NAME_LENGTH)
    recipients: list | None = Field(default=None, sa_column=Column(JSON))
    event_ids: list | None = Field(default=None, sa_column=Column(JSON))
    payload: dict | None = Field(default=None, sa_column=Column(JSON))


class SilenceRecord(SQLModel, table=True):
    """Mutes the notifications of a product (or one objective) from `starts_at` to `ends_at`."""

    __tablename__ = "silence"
    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=NAME_LENGTH)
    objective: str | None = Field(default=None, max_length=NAME_LENGTH)
    starts_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: str | None = Field(default=None, max_length=NAME_LENGTH)
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


def core_table(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed (SQLModel does not declare `__table__`)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]
