"""Who hears about an alert, and where. Pure.

The owner hears every alert of the product. A consumer hears the alerts of the objectives it
agreed on (all when it names none), only while its agreement is in force — [start, end) in UTC
dates at the time of the alert — and only at or above its `min_severity` (page > ticket).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.alerting.notifiers import INLINE_KINDS, KINDS
from monitor.contracts.model import Consumer, DataProduct
from monitor.contracts.severity import Severity
from monitor.contracts.spec import DESTINATION_OPTIONS, HOLD_OPTION
from monitor.values.secrets import redact

DESTINATION_KINDS = ("channel", *INLINE_KINDS)


def destination_key(entry: Mapping[str, str]) -> str:
    """`{email: a@b}` → `email:a@b`: the outbox's name of a destination, placeholders as written
    (its options, such as `inhibit_when_upstream`, are not part of its name)."""
    kind, value = next((k, v) for k, v in entry.items() if k not in DESTINATION_OPTIONS)
    return f"{kind}:{value}"


def holds_when_upstream(entry: Mapping[str, str]) -> bool:
    """Whoever wrote this entry holds its alerts while an upstream alert fires (docs/alerting.md)."""
    return entry.get(HOLD_OPTION) == "true"


def split_destination(key: str) -> tuple[str, str]:
    kind, _, value = key.partition(":")
    if kind not in DESTINATION_KINDS or not value:
        raise ValueError(f"not a destination: {show_destination(key)}")
    return kind, value


def show_destination(key: str) -> str:
    """A destination safe to print: URL passwords hidden, and whatever else its kind hides."""
    kind, _, value = key.partition(":")
    shown = KINDS[kind].Settings.show(value) if kind in KINDS else redact(value)
    return f"{kind}:{shown}"


@dataclass(frozen=True)
class Route:
    destination: str
    recipients: tuple[str, ...]  # e.g. ("owner checkout", "consumer marketing")
    hold_when_upstream: bool = False  # everyone it reaches there asked for it


def consumer_hears(consumer: Consumer, objective: str, severity: str, at: datetime) -> bool:
    day = at.date()
    if consumer.start is not None and day < consumer.start:
        return False
    if consumer.end is not None and day >= consumer.end:
        return False
    if consumer.objectives is not None and objective not in consumer.objectives:
        return False
    floor = Severity(consumer.min_severity or Severity.TICKET)
    return Severity(severity).rank >= floor.rank


@dataclass(frozen=True)
class Listener:
    """Someone who hears an alert: the owner, or a consumer whose agreement covers it."""

    role: str  # "owner" or "consumer"
    team: str
    notify: tuple[Mapping[str, str], ...]


def listeners(product: DataProduct, objective: str, severity: str, at: datetime) -> list[Listener]:
    """Everyone who hears one alert of `product` (the one home of that rule)."""
    found = [Listener("owner", product.owner.team, tuple(product.owner.notify))]
    found += [Listener("consumer", consumer.team, tuple(consumer.notify))
              for consumer in product.consumers
              if consumer_hears(consumer, objective, severity, at)]
    return found


def routes(product: DataProduct, objective: str, severity: str, at: datetime) -> list[Route]:
    """Every destination of one alert, each once, with everyone it reaches there."""
    found: dict[str, list[str]] = {}
    hold: dict[str, bool] = {}
    for listener in listeners(product, objective, severity, at):
        for entry in listener.notify:
            key = destination_key(entry)
            found.setdefault(key, []).append(f"{listener.role} {listener.team}")
            hold[key] = hold.get(key, True) and holds_when_upstream(entry)
    return [Route(key, tuple(dict.fromkeys(who)), hold[key]) for key, who in found.items()]
