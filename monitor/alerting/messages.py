"""What a notification says: the alerts of one product, what was promised, what is measured.

A `Message` is stored in the outbox as plain JSON (`to_payload`) — never with a secret in it —
and each notifier renders it its own way (`subject`, `text`, `html` here for people).
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from monitor.contracts.maintenance import describe
from monitor.contracts.model import DataProduct, MaintenanceWindow, Objective, describe_bound
from monitor.contracts.severity import Severity
from monitor.slo import Condition, Evaluation, Period, budget_lasts, budget_share
from monitor.values.durations import format_duration, human_duration
from monitor.values.targets import format_target
from monitor.values.text import iso_time, percent


class MessageStatus(StrEnum):
    FIRING = "firing"  # also a reminder (`Message.reminder`)
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertItem:
    objective: str
    indicator: str
    condition: str
    severity: str
    since: str  # ISO-8601 UTC: when the condition started to hold
    measured: dict[str, Any]
    promised: dict[str, Any]
    reminder: bool = False
    conditions: tuple[str, ...] = ()  # every condition holding in the alert (`condition` first)
    # the bad objectives upstream at the time: {product, objective, status, since (ISO or null)}
    upstream: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Message:
    status: MessageStatus
    product: str
    at: str  # ISO-8601 UTC of the evaluation that saw the transition
    owner: dict[str, Any]
    dashboard_url: str
    alerts: tuple[AlertItem, ...]
    description: str | None = None
    valid_until: str | None = None  # firing: when a receiver may consider it stale
    delivery_id: str | None = field(default=None, compare=False)  # set when sent

    @property
    def severity(self) -> Severity:
        return max((Severity(a.severity) for a in self.alerts), key=lambda s: s.rank)

    @property
    def reminder(self) -> bool:
        return all(a.reminder for a in self.alerts)

    def to_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload.pop("delivery_id")
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any], delivery_id: str | None = None) -> Message:
        items = tuple(AlertItem(**{**item, "conditions": tuple(item.get("conditions") or ()),
                                   "upstream": tuple(item.get("upstream") or ())})
                      for item in payload["alerts"])
        return cls(**{**payload, "status": MessageStatus(payload["status"]), "alerts": items,
                      "delivery_id": delivery_id})


def promised(objective: Objective, condition: Condition, period: Period | None = None
             ) -> dict[str, Any]:
    """The promise an alert is about, in the contract's own terms, and the rule's budget share.
    A calendar objective (`period`: its current one) also says which period, in which zone."""
    burn = condition.burn_rate_threshold
    return {
        "calendar": objective.calendar.value if objective.calendar else None,
        "timezone": period.timezone if period is not None else objective.timezone,
        "indicator": objective.indicator.value,
        "target": float(objective.target),
        "target_text": format_target(objective.target),
        "window": format_duration(objective.window),
        "threshold": format_duration(objective.threshold) if objective.threshold else None,
        "bound": describe_bound(objective).strip() or None,
        "burn_rate_threshold": float(burn) if burn is not None else None,
        "long_window": format_duration(condition.long_window) if condition.long_window else None,
        "short_window": format_duration(condition.short_window) if condition.short_window else None,
        "budget_share": budget_share(burn, condition.long_window, objective.window)
        if burn is not None and condition.long_window else None,
    }


def measured(evaluation: Evaluation, condition: Condition | None,
             objective_window: timedelta) -> dict[str, Any]:
    """What the evaluation saw: burn rates of the condition's windows when it has them, the
    data age it judged, and how long the budget left lasts at the (long window's) rate."""
    rates = evaluation.burn_rates
    result: dict[str, Any] = {
        "compliance": evaluation.compliance,
        "error_budget_remaining": evaluation.error_budget_remaining,
        "good": evaluation.counts.good,
        "total": evaluation.counts.total,
        "burn_rate": None, "burn_rate_short": None,
        "freshness_age_seconds": evaluation.data_age.total_seconds()
        if evaluation.data_age is not None else None,
    }
    if condition is not None and condition.long_window is not None:
        result["burn_rate"] = rates.get(condition.long_window)
        if condition.short_window is not None:
            result["burn_rate_short"] = rates.get(condition.short_window)
    elif rates:
        result["burn_rate"] = rates[min(rates)]  # the shortest window: what is happening now
    result["window_budget_remaining"] = evaluation.window_budget_remaining
    result["schema_mismatch"] = list(evaluation.schema_mismatch)
    lasts = budget_lasts(evaluation.window_budget_remaining, result["burn_rate"],
                         evaluation.budget_window or objective_window)  # a period: its whole length
    result["budget_lasts_seconds"] = lasts.total_seconds() if lasts is not None else None
    return result


def describe_mute(window: MaintenanceWindow, start: datetime, end: datetime) -> str:
    """What muted an alert during maintenance: this occurrence, then the window as written."""
    return f"{describe(window)} (this time until {_when(iso_time(end))})"


def owner_of(product: DataProduct) -> dict[str, Any]:
    return {"team": product.owner.team, "contact": product.owner.contact}


# ── rendering for people ────────────────────────────────────────────────────────────────────

def subject(message: Message) -> str:
    word = "RESOLVED" if message.status == MessageStatus.RESOLVED else (
        "STILL FIRING" if message.reminder else "FIRING")
    first = message.alerts[0]
    what = (f"{first.objective} {first.condition}" if len(message.alerts) == 1
            else f"{len(message.alerts)} alerts")
    return f"[{word}] {message.product}: {what} ({message.severity})"


def describe_promise(item: AlertItem) -> str:
    """`availability for 99.9% over 30d; pages at 2% of the 30-day budget in 1h (burn rate
    14.4 over 1h and 5m)`."""
    p = item.promised
    text = f"{p['indicator']}"
    if p.get("bound"):
        text += f" {p['bound']}"
    elif p.get("threshold"):
        text += f" ≤ {p['threshold']}"
    calendar = p.get("calendar")
    if calendar:  # `over the calendar month (Europe/Amsterdam)`, `of the month's budget`
        zone = f" ({p['timezone']})" if p.get("timezone") else ""
        text += f" for {p['target_text']} over the calendar {calendar}{zone}"
    else:
        text += f" for {p['target_text']} over {p['window']}"
    if p.get("burn_rate_threshold") is not None:
        verb = "pages" if item.severity == Severity.PAGE else "opens a ticket"
        share = p.get("budget_share")
        budget = f"{calendar}'s" if calendar else _window_words(p["window"])
        at = (f" at {_share(share)} of the {budget} budget in "
              f"{p['long_window']}" if share is not None else "")
        text += (f"; {verb}{at} (burn rate {p['burn_rate_threshold']:g} over "
                 f"{p['long_window']} and {p['short_window']})")
    return text


def describe_measure(item: AlertItem) -> str:
    m = item.measured
    parts = [f"compliance {percent(m.get('compliance'), 3)}",
             f"error budget left {percent(m.get('error_budget_remaining'), 1)}"]
    whole = m.get("window_budget_remaining")
    if whole is not None and m.get("error_budget_remaining") is not None \
            and abs(whole - m["error_budget_remaining"]) >= 0.05:  # a window far from full
        parts[-1] += f" of the events so far ({percent(whole, 1)} of a full window's)"
    if m.get("burn_rate") is not None:
        rate = f"burn rate {m['burn_rate']:.2f}"
        if m.get("burn_rate_short") is not None:
            rate += f" (short window {m['burn_rate_short']:.2f})"
        parts.append(rate)
    lasts = m.get("budget_lasts_seconds")
    if lasts is not None:
        parts.append("the budget is spent" if lasts <= 0 else
                     f"at this rate the budget is gone in {human_duration(timedelta(seconds=lasts))}")
    if m.get("freshness_age_seconds") is not None:
        age = timedelta(seconds=m["freshness_age_seconds"])
        parts.append(f"newest data {human_duration(age)} old")
    parts.append(f"{m.get('good', 0)}/{m.get('total', 0)} good events")
    if m.get("schema_mismatch"):
        parts.append("schema differs from the contract: " + "; ".join(m["schema_mismatch"]))
    return ", ".join(parts)


def describe_upstream(item: AlertItem) -> str | None:
    """`probably caused upstream: cart/events freshness breached since 2026-11-02 10:02 UTC`, or
    None when nothing upstream is breached or at risk."""
    if not item.upstream:
        return None
    parts = []
    for upstream in item.upstream:
        part = (f"{upstream['product']} {upstream['objective']} "
                f"{str(upstream['status']).replace('_', ' ')}")
        parts.append(part + (f" since {_when(upstream['since'])}" if upstream.get("since") else ""))
    return "probably caused upstream: " + "; ".join(parts)


def describe_conditions(item: AlertItem) -> str:
    """`fast_burn, sustained_burn` — what holds inside the alert."""
    return ", ".join(item.conditions or (item.condition,))


def text(message: Message) -> str:
    lines = [subject(message), ""]
    for item in message.alerts:
        state = message.status
        lines += [f"{item.objective}: {item.severity} alert {state} ({describe_conditions(item)}), "
                  f"since {_when(item.since)}",
                  f"  promised: {describe_promise(item)}",
                  f"  measured: {describe_measure(item)}"]
        cause = describe_upstream(item)
        lines += [f"  {cause}", ""] if cause else [""]
    owner = message.owner
    lines += [f"Owner: {owner.get('team')}" + (f" <{owner['contact']}>" if owner.get("contact")
                                                else ""),
              f"Dashboard: {message.dashboard_url}", f"Evaluated at {_when(message.at)}"]
    return "\n".join(lines) + "\n"


def html_body(message: Message) -> str:
    e = html.escape
    colour = "#2e7d32" if message.status == MessageStatus.RESOLVED else "#c62828"
    rows = "".join(
        f"<tr><td><b>{e(i.objective)}</b></td><td>{e(describe_conditions(i))} ({e(i.severity)})</td>"
        f"<td>{e(describe_promise(i))}</td><td>{e(describe_measure(i))}</td>"
        f"<td>{e(_when(i.since))}</td></tr>"
        + (f"<tr><td></td><td colspan=\"4\">{e(cause)}</td></tr>"
           if (cause := describe_upstream(i)) else "")
        for i in message.alerts)
    owner = message.owner
    contact = f" &lt;{e(owner['contact'])}&gt;" if owner.get("contact") else ""
    return (f"<html><body><h2 style=\"color:{colour}\">{e(subject(message))}</h2>"
            "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\"><tr><th>objective</th>"
            "<th>condition</th><th>promised</th><th>measured</th><th>since</th></tr>"
            f"{rows}</table><p>Owner: {e(str(owner.get('team')))}{contact}</p>"
            f"<p><a href=\"{e(message.dashboard_url)}\">Open {e(message.product)} in the "
            f"dashboard</a></p><p style=\"color:#777\">Evaluated at {e(_when(message.at))}</p>"
            "</body></html>")


def _share(value: float) -> str:
    return f"{value * 100:.3g}%"


def _window_words(window: str) -> str:
    """`30d` → `30-day`, `7d` → `7-day`, `12h` → `12h`."""
    return f"{window[:-1]}-day" if window.endswith("d") and window[:-1].isdigit() else window


def _when(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
