"""Human output of `meshwatch alerts` and `meshwatch silence list` (rich tables)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from monitor.alerting.lifecycle import NotificationState, State
from monitor.alerting.silences import Silence

STATE_STYLE = {State.FIRING: "bold red", State.PENDING: "yellow", State.RESOLVED: "green",
               State.INACTIVE: "dim"}
DELIVERY_STYLE = {NotificationState.SENT: "green", NotificationState.PENDING: "yellow",
                  NotificationState.SENDING: "yellow", NotificationState.FAILED: "bold red",
                  NotificationState.MUTED: "dim"}


def print_alerts(console: Console, alerts: list[dict[str, Any]], at: datetime) -> None:
    if not alerts:
        console.print(f"No active or recent alerts at {at:%Y-%m-%d %H:%M} UTC.")
        return
    table = Table(title=f"Alerts at {at:%Y-%m-%d %H:%M} UTC", expand=False)
    for column in ("product", "objective", "severity", "conditions", "state", "since",
                   "resolved", "deliveries"):
        table.add_column(column, overflow="fold")
    for alert in alerts:
        state = alert["state"]
        table.add_row(alert["product"], alert["objective"], alert["severity"],
                      ", ".join(alert["conditions"]),
                      f"[{STATE_STYLE.get(state, '')}]{state}[/]", _short(alert["since"]),
                      _short(alert["resolved_at"]), _deliveries(alert["deliveries"]) or "—")
    console.print(table)


def _deliveries(deliveries: Iterable[dict[str, Any]]) -> str:
    lines = []
    for d in deliveries:
        style = DELIVERY_STYLE.get(d["status"], "")
        line = f"{d['message']} → {d['destination']}: [{style}]{d['status']}[/]"
        if d["status"] in (NotificationState.PENDING, NotificationState.FAILED) and d["attempts"]:
            line += f" after {d['attempts']} attempt(s)"
        if d["last_error"] and d["status"] != NotificationState.SENT:
            line += f" ({d['last_error']})"
        if d["muted_by"]:
            line += f" ({d['muted_by']})"
        lines.append(line)
    return "\n".join(lines)


def print_silences(console: Console, silences: list[Silence], at: datetime) -> None:
    if not silences:
        console.print("No silences.")
        return
    table = Table(title=f"Silences at {at:%Y-%m-%d %H:%M} UTC", expand=False)
    for column in ("id", "product", "objective", "from", "until", "state", "by", "comment"):
        table.add_column(column, overflow="fold")
    for s in silences:
        state = "active" if s.active(at) else ("expired" if s.ends_at <= at else "upcoming")
        table.add_row(str(s.id), s.product, s.objective or "(all)", f"{s.starts_at:%Y-%m-%d %H:%M}",
                      f"{s.ends_at:%Y-%m-%d %H:%M}", state, s.created_by or "—", s.comment)
    console.print(table)


def _short(value: str | None) -> str:
    return value.replace("T", " ")[:16] if value else "—"
