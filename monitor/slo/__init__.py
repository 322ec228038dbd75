"""Pure SLO math: no I/O, no clock. The time of evaluation is always an argument."""

from monitor.slo.budget import Counts, burn_rate, compliance, error_budget_remaining
from monitor.slo.evaluate import (
    STATUS_ORDER,
    AlertPolicy,
    Condition,
    Evaluation,
    Observations,
    Status,
    evaluate_objective,
)
from monitor.slo.policy import DEFAULT_RULES, BurnRateRule, alert_windows, scaled_rules

__all__ = ["DEFAULT_RULES", "STATUS_ORDER", "AlertPolicy", "BurnRateRule", "Condition", "Counts",
           "Evaluation", "Observations", "Status", "alert_windows", "burn_rate", "compliance",
           "error_budget_remaining", "evaluate_objective", "scaled_rules"]
