"""Prometheus recording and alerting rules for every objective, over `meshwatch_slo_events_total`.

One rule group per objective, evaluated every minute (the store's resolution). For each window a
rule reads (and a rolling objective's own window), three recording rules:

    meshwatch:slo_events:increase<w>      events in the window (every worker summed)
    meshwatch:slo_bad_events:increase<w>  bad events in the window
    meshwatch:slo_error_ratio:increase<w> bad / max(events, the events a full window holds)

— the last as meshwatch's evaluation takes it (monitor.slo.status: a window not yet full counts
its missing events as good, so a new objective's first bad probe does not page). Each burn-rate
rule becomes an alert named as meshwatch's Alertmanager notifier names it (`MeshwatchFastBurn`),
labelled `product`, `objective`, `condition` and `severity`: ratio above burn × (1 - target) over
the long and the short window, and at least `min_events` events in the long one. A rolling
objective also gets `MeshwatchBudgetExhausted`. What does not map is said in comments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from monitor.contracts.model import DataProduct
from monitor.contracts.severity import Severity
from monitor.exports.objectives import (
    COUNTER,
    ExportedObjective,
    ExportPolicy,
    exported_objectives,
    float_text,
)
from monitor.exports.text import comment, list_item
from monitor.slo import BurnRateRule, ConditionName
from monitor.slo.conditions import alert_name
from monitor.values.durations import format_duration
from monitor.values.targets import format_target

EVALUATION_INTERVAL = timedelta(minutes=1)
EVENTS, BAD_EVENTS, ERROR_RATIO = ("meshwatch:slo_events:increase", "meshwatch:slo_bad_events:increase",
                                   "meshwatch:slo_error_ratio:increase")

HEADER = (
    "Prometheus rules for meshwatch's objectives: `meshwatch export prometheus-rules`.",
    "They read meshwatch_slo_events_total (the daemon's telemetry: the events its store",
    "recorded, by product, objective and outcome) and follow meshwatch's own evaluation: the",
    "same scaled windows, thresholds, min_events, severities and alert names. Where they differ:",
    "- a window ends at the evaluation's minute; meshwatch ends one at the newest probed minute",
    "  (up to one probe interval earlier), so a slowly probed port may fire a minute or so apart;",
    "- events reach Prometheus at each scrape of the daemon, counted when they are written;",
    "- no_data, freshness_breach (the data's age now) and schema_mismatch are not event counts:",
    "  meshwatch_slo_condition{slo_condition=...} exports meshwatch's own verdict on those;",
    "- ranges longer than Prometheus keeps data (the objective's own window) need that retention.",
)


def prometheus_rules(products: Iterable[DataProduct], policy: ExportPolicy) -> str:
    """The rule file (YAML) for every objective of `products`."""
    objectives = exported_objectives(products, policy)
    text = comment(HEADER)
    if not objectives:
        return text + "groups: []\n"
    text += "groups:\n"
    for item in objectives:
        notes = [f"{item.product.id} {item.objective.name}: {item.promise}, "
                 f"{format_target(item.objective.target)} over {format_duration(item.objective.window)}"
                 f"{'' if item.rolling else ' (calendar)'}",
                 *(f"not exported: {note}" for note in item.unmapped)]
        text += comment(notes, indent=2) + list_item(rule_group(item, policy), indent=2)
    return text


def rule_group(item: ExportedObjective, policy: ExportPolicy) -> dict:
    rules: list[dict] = []
    for window in item.budget_windows:
        rules += recording_rules(item, window)
    rules += [burn_alert(item, rule, policy) for rule in item.rules]
    if item.rolling:
        rules.append(budget_alert(item, policy))
    return {"name": f"meshwatch-slo:{item.product.id}:{item.objective.name}",
            "interval": format_duration(EVALUATION_INTERVAL), "rules": rules}


def recording_rules(item: ExportedObjective, window: timedelta) -> list[dict]:
    suffix, range_ = format_duration(window), f"[{format_duration(window)}]"
    expected = item.expected(window)
    events, bad = item.selector(), item.selector(outcome="bad")
    ratio = f"{BAD_EVENTS}{suffix}{events}\n/\n"
    ratio += f"clamp_min({EVENTS}{suffix}{events}, {expected})" if expected else f"{EVENTS}{suffix}{events}"
    labels = identity(item)  # the same names in every group: the labels tell them apart
    return [
        {"record": f"{EVENTS}{suffix}",
         "expr": f"sum by (product, objective) (increase({COUNTER}{events}{range_}))", "labels": labels},
        {"record": f"{BAD_EVENTS}{suffix}",
         "expr": f"sum by (product, objective) (increase({COUNTER}{bad}{range_}))", "labels": labels},
        {"record": f"{ERROR_RATIO}{suffix}", "expr": ratio, "labels": labels},
    ]


def identity(item: ExportedObjective) -> dict[str, str]:
    return {"product": item.product.id, "objective": item.objective.name}


def burn_alert(item: ExportedObjective, rule: BurnRateRule, policy: ExportPolicy) -> dict:
    threshold = float_text(item.threshold(rule))
    long, short = format_duration(rule.long_window), format_duration(rule.short_window)
    selector = item.selector()
    expr = (f"{ERROR_RATIO}{long}{selector} > {threshold}\n"
            f"and {ERROR_RATIO}{short}{selector} > {threshold}\n"
            f"and {EVENTS}{long}{selector} >= {policy.slo.min_events}")
    description = (f"burn rate above {rule.burn_rate} over {long} and {short} "
                   f"({item.budget_percent(rule):g}% of the {format_duration(item.objective.window)} "
                   f"error budget in {long}), with at least {policy.slo.min_events} events in {long}")
    return _alert(item, rule.name, rule.severity, expr, description, policy)


def budget_alert(item: ExportedObjective, policy: ExportPolicy) -> dict:
    window = format_duration(item.objective.window)
    selector = item.selector()
    expr = (f"{ERROR_RATIO}{window}{selector} >= {float_text(item.budget)}\n"
            f"and {BAD_EVENTS}{window}{selector} > 0")
    description = (f"the error budget of {window} is spent: bad events are at least "
                   f"{float_text(item.budget)} of the events the window holds")
    return _alert(item, ConditionName.BUDGET_EXHAUSTED, Severity.TICKET, expr, description, policy)


def _alert(item: ExportedObjective, condition: ConditionName, severity: Severity, expr: str,
           description: str, policy: ExportPolicy) -> dict:
    alert: dict = {"alert": alert_name(condition), "expr": expr}
    if policy.for_ > timedelta(0):
        alert["for"] = format_duration(policy.for_)
    if policy.keep_firing_for > timedelta(0):
        alert["keep_firing_for"] = format_duration(policy.keep_firing_for)
    alert["labels"] = {**identity(item), "severity": severity.value, "condition": condition.value}
    alert["annotations"] = alert_annotations(item, condition, severity, description)
    return alert


def alert_annotations(item: ExportedObjective, condition: ConditionName, severity: Severity,
                      description: str) -> dict[str, str]:
    return {"summary": f"{item.product.id} {item.objective.name}: {condition.value} ({severity.value})",
            "description": f"promised: {format_target(item.objective.target)} "
                           f"{item.promise} over "
                           f"{format_duration(item.objective.window)}; {description}"}
