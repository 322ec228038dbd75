"""Sloth `prometheus/v1` specs: one per product and objective window, each SLO's SLI an events
ratio over `meshwatch_slo_events_total`; and the AlertWindows catalog that gives Sloth
meshwatch's burn-rate rules for each window (`sloth generate --default-slo-period <window>
--slo-period-windows-path <dir of those>`).

Sloth has a page alert of two window pairs (quick, slow) and a ticket alert of two; meshwatch's
policy has two page rules and one ticket rule, so the ticket's quick and slow pairs are that one
rule. Sloth knows no min_events, no padding of windows not yet full and no exhausted budget."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from itertools import groupby

from monitor.contracts.model import DataProduct
from monitor.contracts.severity import Severity
from monitor.exports.objectives import (
    COUNTER,
    ExportedObjective,
    ExportPolicy,
    exported_objectives,
    safe_name,
)
from monitor.exports.text import comment, dump
from monitor.slo import BurnRateRule, budget_share, scaled_rules
from monitor.values.durations import format_duration
from monitor.values.targets import format_target

ALERT_NAME = "MeshwatchErrorBudgetBurn"
SLOTH_LEAVES_OUT = (
    "min_events (a burn-rate alert needs that many events in its long window),",
    "windows not yet full counted as good (a new objective's first bad probe does not page),",
    "budget_exhausted, and short windows of at least two probe intervals.",
)


def sloth_specs(products: Iterable[DataProduct], policy: ExportPolicy) -> str:
    """A YAML stream of prometheus/v1 specs (documents separated by `---`)."""
    objectives = exported_objectives(products, policy)
    documents = []
    by_spec = groupby(sorted(objectives, key=lambda o: (o.product.id, o.objective.window)),
                      key=lambda o: (o.product.id, o.objective.window))
    for (_, window), items in by_spec:
        group = list(items)
        notes = [f"sloth generate --default-slo-period {format_duration(window)} "
                 "--slo-period-windows-path DIR (DIR: `meshwatch export sloth --alert-windows`)",
                 "Not in Sloth, which meshwatch's evaluation does: " + SLOTH_LEAVES_OUT[0],
                 *SLOTH_LEAVES_OUT[1:]]
        for item in group:
            notes += [f"{item.objective.name}: not exported: {note}" for note in item.unmapped]
        documents.append(comment(notes) + dump(spec(group)))
    return "---\n".join(documents) if documents else "# no objectives\n"


def spec(items: list[ExportedObjective]) -> dict:
    product = items[0].product
    return {"version": "prometheus/v1", "service": safe_name(product.id),
            "labels": {"product": product.id, "owner": product.owner.team},
            "slos": [slo(item) for item in items]}


def slo(item: ExportedObjective) -> dict:
    objective = item.objective
    window = "[{{.window}}]"
    return {
        "name": safe_name(objective.name),
        "objective": float(objective.target * 100),
        "description": objective.description or (
            f"{format_target(objective.target)} {item.promise} of {item.product.id} "
            f"over {format_duration(objective.window)} (meshwatch objective {objective.name})"),
        "labels": {"objective": objective.name, "indicator": objective.indicator.value},
        "sli": {"events": {
            "error_query": f"sum(rate({COUNTER}{item.selector(outcome='bad')}{window}))",
            "total_query": f"sum(rate({COUNTER}{item.selector()}{window}))"}},
        "alerting": {
            "name": ALERT_NAME,
            "labels": {"product": item.product.id, "objective": objective.name},
            "annotations": {"summary": f"{item.product.id} {objective.name} burns its error budget"},
            "page_alert": {"labels": {"severity": Severity.PAGE.value}},
            "ticket_alert": {"labels": {"severity": Severity.TICKET.value}},
        },
    }


def sloth_alert_windows(products: Iterable[DataProduct], policy: ExportPolicy) -> str:
    """Sloth AlertWindows documents, one per distinct objective window, from meshwatch's rules
    scaled to it (in whole minutes; the floor of two probe intervals is not Sloth's)."""
    windows = sorted({item.objective.window for item in exported_objectives(products, policy)})
    documents = [dump(alert_windows(window, policy.slo.rules)) for window in windows]
    return "---\n".join(documents) if documents else "# no objectives\n"


def alert_windows(window: timedelta, rules: tuple[BurnRateRule, ...]) -> dict:
    scaled = scaled_rules(window, rules)
    return {"apiVersion": "sloth.slok.dev/v1", "kind": "AlertWindows",
            "spec": {"sloPeriod": format_duration(window),
                     "page": _quick_slow([r for r in scaled if r.severity is Severity.PAGE], window),
                     "ticket": _quick_slow([r for r in scaled if r.severity is Severity.TICKET],
                                           window)}}


def _quick_slow(rules: list[BurnRateRule], window: timedelta) -> dict:
    """The fastest-burning rule as Sloth's quick pair, the slowest as its slow one (one rule:
    both)."""
    ordered = sorted(rules, key=lambda rule: -rule.burn_rate)
    return {"quick": _window(ordered[0], window), "slow": _window(ordered[-1], window)}


def _window(rule: BurnRateRule, window: timedelta) -> dict:
    return {"errorBudgetPercent": round(budget_share(rule.burn_rate, rule.long_window, window) * 100, 6),
            "shortWindow": format_duration(rule.short_window),
            "longWindow": format_duration(rule.long_window)}
