"""OpenSLO v1 documents: per product a `Service` and an `AlertNotificationTarget` (its owner); per
objective an `SLO` whose indicator is a ratio of `meshwatch_slo_events_total` (bad / total); per
burn-rate rule an `AlertCondition` (burnrate over the long window) and the `AlertPolicy` holding
it (a v1 policy holds one condition).

OpenSLO v1 has no short window, no minimum of events and no padding of a window not yet full:
they are annotations (`meshwatch/short-window`, `meshwatch/min-events`), as is what does not
map at all (`meshwatch/not-exported`). Names follow RFC 1123 labels, as v1 asks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from monitor.contracts.model import DataProduct
from monitor.exports.objectives import COUNTER, ExportedObjective, ExportPolicy, exported_objectives
from monitor.exports.text import dump
from monitor.slo import BurnRateRule
from monitor.values.calendar import CalendarPeriod
from monitor.values.durations import format_duration

API_VERSION = "openslo/v1"
NAME_LENGTH = 63  # RFC 1123 label
CALENDAR = {CalendarPeriod.WEEK: "1w", CalendarPeriod.MONTH: "1M", CalendarPeriod.QUARTER: "1Q"}
PERIOD_START = "2024-01-01 00:00:00"  # a Monday, the first of a month and of a quarter


def openslo_documents(products: Iterable[DataProduct], policy: ExportPolicy) -> str:
    """A YAML stream of OpenSLO v1 documents (separated by `---`)."""
    objectives = exported_objectives(products, policy)
    documents: list[dict] = []
    seen: set[str] = set()
    for item in objectives:
        if item.product.id not in seen:
            seen.add(item.product.id)
            documents += [service(item.product), owner_target(item.product)]
        documents.append(slo(item, policy))
        for rule in item.rules:
            documents += [alert_condition(item, rule, policy), alert_policy(item, rule)]
    return "---\n".join(dump(document) for document in documents) if documents else "# no objectives\n"


def rfc1123(*parts: str) -> str:
    """Lower-case letters, digits and `-`, at most 63 characters (a digest of the whole keeps a
    shortened name unique)."""
    text = "-".join(parts).lower()
    name = "".join(c if c.isascii() and c.isalnum() else "-" for c in text)
    name = "-".join(filter(None, name.split("-"))) or "objective"
    if len(name) > NAME_LENGTH:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        name = name[:NAME_LENGTH - 9].rstrip("-") + "-" + digest
    return name


def shorthand(length: timedelta) -> str:
    """A duration-shorthand: one whole number and one unit (`144m`, not `2h24m`)."""
    minutes = max(1, round(length / timedelta(minutes=1)))
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _document(kind: str, name: str, display: str, spec: dict, annotations: dict | None = None,
              labels: dict | None = None) -> dict:
    metadata: dict = {"name": name, "displayName": display}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def service(product: DataProduct) -> dict:
    return _document("Service", rfc1123(product.id), product.id, {
        "description": (product.description or f"The data product {product.id}")[:1050]},
        labels={"domain": product.domain, "team": product.owner.team})


def owner_target(product: DataProduct) -> dict:
    contact = product.owner.contact
    return _document("AlertNotificationTarget", rfc1123(product.id, "owner"),
                     f"{product.id} owner", {
                         "target": "email" if contact else product.owner.team,
                         "description": f"The owner of {product.id}: {product.owner.team}"
                                        + (f" ({contact})" if contact else "")
                                        + "; consumers' destinations stay in meshwatch"})


def _name(item: ExportedObjective, *more: str) -> str:
    return rfc1123(item.product.id, item.objective.name, *more)


def slo(item: ExportedObjective, policy: ExportPolicy) -> dict:
    objective = item.objective
    annotations = {"meshwatch/product": item.product.id, "meshwatch/objective": objective.name,
                   "meshwatch/min-events": str(policy.slo.min_events)}
    if item.unmapped:
        annotations["meshwatch/not-exported"] = "; ".join(item.unmapped)
    return _document("SLO", _name(item), f"{item.product.id} {objective.name}", {
        "description": (objective.description or f"{objective.indicator.value} of {item.product.id}")[:1050],
        "service": rfc1123(item.product.id),
        "indicator": {
            "metadata": {"name": _name(item, "events"),
                         "displayName": f"{objective.name}: bad / all events"},
            "spec": {"ratioMetric": {"counter": True,
                                     "bad": _metric(item.selector(outcome="bad")),
                                     "total": _metric(item.selector())}}},
        "timeWindow": [time_window(item, policy)],
        "budgetingMethod": "Occurrences",
        "objectives": [{"displayName": objective.name, "target": float(objective.target)}],
        "alertPolicies": [{"alertPolicyRef": _name(item, rule.name)} for rule in item.rules],
    }, annotations)


def _metric(selector: str) -> dict:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": f"{COUNTER}{selector}"}}}


def time_window(item: ExportedObjective, policy: ExportPolicy) -> dict:
    calendar = item.objective.calendar
    if calendar is None:
        return {"duration": shorthand(item.objective.window), "isRolling": True}
    return {"duration": CALENDAR[calendar], "isRolling": False,
            "calendar": {"startTime": PERIOD_START,
                         "timeZone": item.objective.timezone or policy.timezone}}


def alert_condition(item: ExportedObjective, rule: BurnRateRule, policy: ExportPolicy) -> dict:
    return _document("AlertCondition", _name(item, rule.name, "condition"),
                     f"{item.product.id} {item.objective.name}: {rule.name}", {
                         "description": f"burn rate above {rule.burn_rate} over "
                                        f"{format_duration(rule.long_window)} and "
                                        f"{format_duration(rule.short_window)}",
                         "severity": rule.severity.value,
                         "condition": {"kind": "burnrate", "op": "gt",
                                       "threshold": float(rule.burn_rate),
                                       "lookbackWindow": shorthand(rule.long_window),
                                       "alertAfter": shorthand(policy.for_)
                                       if policy.for_ > timedelta(0) else "0m"}},
                     {"meshwatch/short-window": shorthand(rule.short_window),
                      "meshwatch/min-events": str(policy.slo.min_events),
                      "meshwatch/condition": rule.name.value})


def alert_policy(item: ExportedObjective, rule: BurnRateRule) -> dict:
    return _document("AlertPolicy", _name(item, rule.name),
                     f"{item.product.id} {item.objective.name}: {rule.name} ({rule.severity.value})", {
                         "description": f"meshwatch's {rule.name} {rule.severity.value} alert",
                         "alertWhenBreaching": True, "alertWhenResolved": True,
                         "alertWhenNoData": False,
                         "conditions": [{"conditionRef": _name(item, rule.name, "condition")}],
                         "notificationTargets": [{"targetRef": rfc1123(item.product.id, "owner")}]})
