"""Exports of meshwatch's objectives to other engines: Prometheus recording and alerting rules
over the telemetry's `meshwatch_slo_events_total`, Sloth `prometheus/v1` specs and OpenSLO v1
documents. Pure: products (contracts) and the settings' values in, text and documents out; what
an engine cannot express is said beside what it can (comments, `unmapped`)."""

from monitor.exports.objectives import ExportedObjective, ExportPolicy, exported_objectives
from monitor.exports.openslo import openslo_documents
from monitor.exports.prometheus import prometheus_rules
from monitor.exports.sloth import sloth_alert_windows, sloth_specs

__all__ = ["ExportPolicy", "ExportedObjective", "exported_objectives", "openslo_documents",
           "prometheus_rules", "sloth_alert_windows", "sloth_specs"]
