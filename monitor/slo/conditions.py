"""The alert conditions an evaluation can find, each with the severity of the alert it joins."""

from __future__ import annotations

from enum import StrEnum

from monitor.contracts.severity import Severity


class ConditionName(StrEnum):
    FAST_BURN = "fast_burn"
    SUSTAINED_BURN = "sustained_burn"
    SLOW_BURN = "slow_burn"
    BUDGET_EXHAUSTED = "budget_exhausted"
    FRESHNESS_BREACH = "freshness_breach"
    NO_DATA = "no_data"
    SCHEMA_MISMATCH = "schema_mismatch"  # the port's data no longer has the declared schema

    @property
    def severity(self) -> Severity:
        """An objective has one page alert and one ticket alert; this says which one holds it."""
        return _SEVERITY[self]


_SEVERITY = {
    ConditionName.FAST_BURN: Severity.PAGE,
    ConditionName.SUSTAINED_BURN: Severity.PAGE,
    ConditionName.FRESHNESS_BREACH: Severity.PAGE,
    ConditionName.SLOW_BURN: Severity.TICKET,
    ConditionName.BUDGET_EXHAUSTED: Severity.TICKET,
    ConditionName.NO_DATA: Severity.TICKET,
    ConditionName.SCHEMA_MISMATCH: Severity.TICKET,
}


def alert_name(condition: str) -> str:
    """A condition's alert name in Alertmanager and the exported Prometheus rules: `MeshwatchFastBurn`."""
    return "Meshwatch" + "".join(part.capitalize() for part in condition.split("_"))
