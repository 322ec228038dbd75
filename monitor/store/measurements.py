"""Write probe results (history and each port's latest state); read them back for evaluation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, case, func, select

from monitor.contracts.results import ProbeResult
from monitor.store.dialect import dialect_insert
from monitor.store.tables import HeartbeatRecord, PortState, ProbeRecord, core_table


def record_probe_results(connection: Connection, results: Sequence[ProbeResult],
                         states: Iterable[ProbeResult] | None = None) -> list[ProbeResult]:
    """Store results, and the state of each port from its latest result (or from `states`,
    when the caller chooses which ports' states to write now); the results stored. A scheduled
    run (one with a `slot`) already stored — by another worker during a hand-over — is not
    stored again."""
    stored = record_probe_history(connection, results)
    record_port_states(connection, results if states is None else states)
    return stored


class RunStoredBefore(Exception):
    """A scheduled run in the batch was stored before (by another worker, during a hand-over):
    the fast insert cannot say which; write the batch again with `record_probe_history(…,
    fast=False)`, in a new transaction."""


def record_probe_history(connection: Connection, results: Sequence[ProbeResult], fast: bool = True
                         ) -> list[ProbeResult]:
    """Store results (not the ports' states); the results stored (see record_probe_results).

    Scheduled runs (with a slot) are inserted unless stored already. `fast`: in one batch
    straight to the driver, raising RunStoredBefore when any was stored already (rare: a
    hand-over); else with RETURNING, which tells which ones were new."""
    if not results:
        return []
    history = core_table(ProbeRecord)
    once = [r for r in results if r.slot is not None]
    stored = [r for r in results if r.slot is None]
    if stored:
        connection.execute(history.insert(), [_history_row(r) for r in stored])
    if once and fast and connection.dialect.supports_sane_multi_rowcount:
        sql, columns, processors = _insert_once(connection)
        rows = [_history_row(r) for r in once]
        if columns is None:  # named parameters (psycopg)
            values: list = [{name: (process(row[name]) if process else row[name])
                             for name, process in processors.items()} for row in rows]
        else:
            values = [tuple(process(row[name]) if process else row[name]
                            for name, process in zip(columns, processors.values(), strict=True))
                      for row in rows]
        if connection.exec_driver_sql(sql, values).rowcount != len(values):
            raise RunStoredBefore()
        return stored + once
    if once:
        insert = (dialect_insert(connection)(history)
                  .on_conflict_do_nothing(index_elements=["product", "port", "slot"])
                  .returning(history.c.product, history.c.port, history.c.slot))
        new = {tuple(row) for row in connection.execute(insert, [_history_row(r) for r in once])}
        stored += [r for r in once if (r.product, r.port, r.slot) in new]
    return stored


_INSERTS: dict[str, tuple[str, tuple[str, ...] | None, dict]] = {}  # per database, compiled once


def _insert_once(connection: Connection) -> tuple[str, tuple[str, ...] | None, dict]:
    """SQLAlchemy's INSERT … ON CONFLICT DO NOTHING of a history row, compiled once per
    database, with its parameters' order (None: named) and the bind processor of each column
    (the types' own: UTC times, JSON)."""
    name = connection.dialect.name
    if name not in _INSERTS:
        history = core_table(ProbeRecord)
        insert = (dialect_insert(connection)(history).values({c: None for c in _HISTORY_COLUMNS})
                  .on_conflict_do_nothing(index_elements=["product", "port", "slot"]))
        compiled = insert.compile(dialect=connection.dialect)
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        dialect = connection.dialect
        processors = {column: history.c[column].type.dialect_impl(dialect).bind_processor(dialect)
                      for column in (order or _HISTORY_COLUMNS)}
        _INSERTS[name] = (str(compiled), order, processors)
    return _INSERTS[name]


def record_port_states(connection: Connection, results: Iterable[ProbeResult]) -> None:
    """Each port's latest state, from the newest of `results` of each port (an older result
    never overwrites a newer state)."""
    latest: dict[tuple[str, str], ProbeResult] = {}
    for result in sorted(results, key=lambda r: r.started_at):
        latest[(result.product, result.port)] = result
    if not latest:
        return
    table = core_table(PortState)
    insert = dialect_insert(connection)(table)
    failing_since = insert.excluded.failing_since
    upsert = insert.on_conflict_do_update(
        index_elements=["product", "port"],
        set_={"kind": insert.excluded.kind, "last_started_at": insert.excluded.last_started_at,
              "ok": insert.excluded.ok, "latency_ms": insert.excluded.latency_ms,
              # keep the newest data seen, and when a failure streak began
              "newest_data_at": func.coalesce(insert.excluded.newest_data_at,
                                              table.c.newest_data_at),
              "error_class": insert.excluded.error_class, "error": insert.excluded.error,
              "failing_since": _keep_streak(table.c.failing_since, failing_since),
              # a result that did not compare the schema (the port failed) keeps the findings
              "schema_mismatch": func.coalesce(insert.excluded.schema_mismatch,
                                               table.c.schema_mismatch)},
        where=table.c.last_started_at <= insert.excluded.last_started_at)
    connection.execute(upsert, [_state_row(r) for r in latest.values()])


def _keep_streak(current, incoming):
    return case((incoming.is_(None), None), (current.is_(None), incoming), else_=current)


_HISTORY_COLUMNS = ("product", "port", "slot", "kind", "started_at", "ok", "latency_ms",
                    "newest_data_at", "total", "failed", "error_class", "error", "details")


def _history_row(result: ProbeResult) -> dict:
    return {"product": result.product, "port": result.port, "slot": result.slot,
            "kind": result.kind, "started_at": result.started_at, "ok": result.ok,
            "latency_ms": result.latency_ms,
            "newest_data_at": result.newest_data_at, "total": result.total,
            "failed": result.failed, "error_class": result.error_class and str(result.error_class),
            "error": result.error, "details": _details(result)}


def _details(result: ProbeResult) -> dict | None:
    """The result's details, with its volume (`volume`, `volume_unit`, `volume_per` in seconds)."""
    if result.volume is None:
        return result.details or None
    volume = result.volume
    return {**result.details, "volume": volume.amount, "volume_unit": volume.unit.value,
            "volume_per": int(volume.per.total_seconds())}


def _state_row(result: ProbeResult) -> dict:
    return {"product": result.product, "port": result.port, "kind": result.kind,
            "last_started_at": result.started_at, "ok": result.ok,
            "latency_ms": result.latency_ms, "newest_data_at": result.newest_data_at,
            "error_class": result.error_class and str(result.error_class), "error": result.error,
            "failing_since": None if result.ok else result.started_at,
            "schema_mismatch": result.details.get("schema_mismatch")}


def port_states(connection: Connection, products: Iterable[str] | None = None
                ) -> dict[tuple[str, str], PortState]:
    """The latest state of every port, or of the ports of `products`."""
    table = core_table(PortState)
    query = select(table)
    if products is not None:
        query = query.where(table.c.product.in_(bindparam("products", expanding=True)))
    rows = connection.execute(query, {"products": sorted(set(products))} if products is not None
                              else {}).mappings()
    return {(row["product"], row["port"]): PortState(**row) for row in rows}


def record_heartbeat(connection: Connection, product: str, port: str, received_at: datetime,
                     success: bool, run_id: str | None, message: str | None) -> None:
    connection.execute(core_table(HeartbeatRecord).insert(), [{
        "product": product, "port": port, "received_at": received_at, "success": success,
        "run_id": run_id, "message": message}])


def latest_heartbeats(connection: Connection, product: str, port: str
                      ) -> tuple[HeartbeatRecord | None, HeartbeatRecord | None]:
    """(the latest report, the latest successful report) of one heartbeat port."""
    table = core_table(HeartbeatRecord)
    base = (select(table).where(table.c.product == product, table.c.port == port)
            .order_by(table.c.received_at.desc()).limit(1))
    latest = connection.execute(base).mappings().first()
    success = connection.execute(base.where(table.c.success.is_(True))).mappings().first()
    return (HeartbeatRecord(**latest) if latest else None,
            HeartbeatRecord(**success) if success else None)
