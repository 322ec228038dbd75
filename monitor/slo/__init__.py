"""Pure SLO math: no I/O, no clock. The time of evaluation is always an argument."""

from monitor.slo.budget import Counts, budget_lasts, burn_rate, compliance, error_budget_remaining
from monitor.slo.calendar import Period, period_of
from monitor.slo.conditions import ConditionName
from monitor.slo.schedule import age_at_deadline, latest_deadline, on_time
from monitor.slo.status import (
    STATUS_ORDER,
    AlertPolicy,
    Condition,
    Evaluation,
    Observations,
    Status,
    evaluate_objective,
    status_of,
    window_budget_remaining,
    worst_status,
)
from monitor.slo.windows import (
    DEFAULT_RULES,
    BurnRateRule,
    alert_windows,
    budget_share,
    scaled_rules,
    shortest_window,
)

__all__ = ["DEFAULT_RULES", "STATUS_ORDER", "AlertPolicy", "BurnRateRule", "Condition",
           "ConditionName", "Counts", "Evaluation", "Observations", "Period", "Status",
           "age_at_deadline", "alert_windows", "budget_lasts", "budget_share", "burn_rate",
           "compliance", "error_budget_remaining", "evaluate_objective", "latest_deadline",
           "on_time", "period_of", "scaled_rules", "shortest_window", "status_of",
           "window_budget_remaining", "worst_status"]
