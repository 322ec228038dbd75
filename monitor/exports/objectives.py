"""What every export says of one objective, computed once from the contracts and the settings:
its scaled burn-rate rules, the windows they read, the events a full window holds, its error
budget, and what of meshwatch's evaluation the other engines cannot express (`unmapped`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

from monitor.contracts.model import DataProduct, Indicator, Objective, describe_bound
from monitor.evaluation.mesh import expected_interval, one_event_per_probe
from monitor.slo import AlertPolicy, BurnRateRule, alert_windows, budget_share, scaled_rules
from monitor.slo.windows import expected_events
from monitor.values.durations import format_duration

COUNTER = "meshwatch_slo_events_total"  # meshwatch.slo.events as Prometheus names it


@dataclass(frozen=True)
class ExportPolicy:
    """The settings an export reads: the SLO policy (rules, min_events) and the alerts' timing."""

    slo: AlertPolicy = AlertPolicy()
    for_: timedelta = timedelta(0)  # alerting.for
    keep_firing_for: timedelta = timedelta(0)  # alerting.keep_firing_for
    timezone: str = "UTC"  # the settings' zone, for calendar windows that name none


@dataclass(frozen=True)
class ExportedObjective:
    product: DataProduct
    objective: Objective
    interval: timedelta | None  # how often its port is probed
    rules: tuple[BurnRateRule, ...]  # scaled to the objective's window and interval
    windows: tuple[timedelta, ...]  # every window a rule reads, shortest first
    budget: Fraction  # 1 - target
    padded: bool  # a window's ratio is taken of at least the events a full window holds
    unmapped: tuple[str, ...] = field(default=())  # what the exported rules leave out, for people

    @property
    def promise(self) -> str:
        """What a good event is: `latency ≤ 300ms`, `volume ≥ 1,000 rows`, `availability`."""
        return f"{self.objective.indicator.value}{describe_bound(self.objective)}"

    @property
    def rolling(self) -> bool:
        return self.objective.calendar is None

    @property
    def budget_windows(self) -> tuple[timedelta, ...]:
        """The windows the exported rules read: the alert windows, and a rolling objective's own."""
        return tuple(sorted({*self.windows, *((self.objective.window,) if self.rolling else ())}))

    def expected(self, window: timedelta) -> int:
        """The events a full `window` holds (0: the source counts them, nothing is expected)."""
        return expected_events(window, self.interval) if self.padded else 0

    def threshold(self, rule: BurnRateRule) -> Fraction:
        """The bad fraction `rule` holds above: burn rate × (1 - target), exactly."""
        return Fraction(rule.burn_rate) * self.budget

    def budget_percent(self, rule: BurnRateRule) -> float:
        """The share of the budget `rule` spends over its long window, in percent (14.4 over 1 h
        of 30 d: 2)."""
        return round(budget_share(rule.burn_rate, rule.long_window, self.objective.window) * 100, 6)

    def selector(self, **more: str) -> str:
        """`{product="…",objective="…"}` and `more`, as PromQL label matchers."""
        labels = {"product": self.product.id, "objective": self.objective.name, **more}
        return "{" + ",".join(f'{key}="{promql_string(value)}"' for key, value in labels.items()) + "}"


def exported_objectives(products: Iterable[DataProduct], policy: ExportPolicy
                        ) -> list[ExportedObjective]:
    """Every objective of `products`, by product id and objective name."""
    found = []
    for product in sorted(products, key=lambda p: p.id):
        for objective in product.objectives:
            interval = expected_interval(product, objective)
            found.append(ExportedObjective(
                product, objective, interval,
                rules=scaled_rules(objective.window, policy.slo.rules, interval),
                windows=alert_windows(objective.window, policy.slo.rules, interval),
                budget=1 - Fraction(objective.target),
                padded=one_event_per_probe(objective) and interval is not None,
                unmapped=tuple(_unmapped(product, objective))))
    return found


def _unmapped(product: DataProduct, objective: Objective) -> Iterable[str]:
    if objective.calendar is not None:
        yield (f"budget_exhausted of the calendar window ({objective.calendar.value}): its "
               "budget resets at the period's start, which a PromQL range cannot follow (the "
               f"burn-rate rules are exported, scaled from {format_duration(objective.window)})")
    if objective.indicator is Indicator.FRESHNESS:
        yield "freshness_breach (the data's age now), not an event count"
    if objective.schedule is not None:
        yield (f"delivery schedule {objective.schedule.cron!r}: its events are judged by it "
               "(so counted alike), freshness_breach at the deadline is not")
    if product.maintenance:
        left_out = "" if product.maintenance_counts_in_slo else \
            ", nor leave their events out (maintenance_in_slo: excluded)"
        yield ("maintenance windows: these rules do not mute alerts during them (use Alertmanager "
               f"time intervals or silences){left_out}")
    if product.start is not None or product.end is not None:
        yield (f"the contract's term ({product.start or '…'} to {product.end or '…'}): these "
               "rules hold at any time")


def promql_string(value: str) -> str:
    """`value` inside a PromQL double-quoted string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def safe_name(value: str, allowed: str = r"A-Za-z0-9_.-") -> str:
    """`value` with each run of characters outside `allowed` as one `-`, trimmed to start and end
    on an alphanumeric (Sloth's and OpenSLO's names)."""
    return re.sub(rf"[^{allowed}]+", "-", value).strip("-_.") or "objective"


def float_text(value: Fraction | float) -> str:
    """The shortest decimal that reads back as the float nearest `value` (correctly rounded,
    so comparing with it is comparing with the exact value wherever floats can tell)."""
    return repr(float(value))
