"""Altair charts of the product page. Times arrive as naive wall-clock times of the configured
zone (see mesh.wall_times), so the axis reads the same in every browser."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

HEIGHT = 200
INCIDENT_COLOR = "#d62728"


def _time_axis(title: str = "") -> alt.X:
    return alt.X("at:T", title=title, axis=alt.Axis(format="%d %b %H:%M", labelOverlap=True))


def incidents_layer(incidents: pd.DataFrame) -> alt.LayerChart | None:
    """Shaded bands from each alert's firing to its resolution."""
    if incidents.empty:
        return None
    tooltip = [alt.Tooltip("condition:N"), alt.Tooltip("severity:N"),
               alt.Tooltip("fired:T", format="%Y-%m-%d %H:%M"),
               alt.Tooltip("resolved:T", format="%Y-%m-%d %H:%M")]
    base = alt.Chart(incidents)
    band = base.mark_rect(opacity=0.15, color=INCIDENT_COLOR).encode(
        x="fired:T", x2="resolved:T", tooltip=tooltip)
    start = base.mark_rule(color=INCIDENT_COLOR, opacity=0.6).encode(x="fired:T", tooltip=tooltip)
    return alt.LayerChart(layer=[band, start])  # the rule keeps a short incident visible on a long axis


def _with(chart: alt.Chart, layers: Sequence[alt.Chart | alt.LayerChart | None]
          ) -> alt.LayerChart:
    return alt.LayerChart(layer=[*(layer for layer in layers if layer is not None), chart]).properties(
        height=HEIGHT)


def indicator_chart(series: pd.DataFrame, target_percent: float,
                    incidents: pd.DataFrame) -> alt.LayerChart:
    """Good events per bucket (%) against the objective's target."""
    low = min(float(series["compliance"].min()) if not series.empty else 100, target_percent)
    floor = max(0.0, low - max(0.5, (100 - low) * 0.2))
    line = alt.Chart(series).mark_line(point=len(series) <= 120, interpolate="step-before").encode(
        x=_time_axis(),
        y=alt.Y("compliance:Q", title="good events %", scale=alt.Scale(domain=[floor, 100])),
        tooltip=[alt.Tooltip("at:T", title="until", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("compliance:Q", format=".3f"), "good:Q", "total:Q"])
    target = alt.Chart(pd.DataFrame({"target": [target_percent]})).mark_rule(
        strokeDash=[6, 4], color="#ff7f0e").encode(y="target:Q", tooltip=["target:Q"])
    return _with(line, [incidents_layer(incidents), target])


def measurement_chart(points: pd.DataFrame, field: str, title: str, threshold: float,
                      incidents: pd.DataFrame) -> alt.LayerChart:
    """A measured quantity (latency, data age) per probe against the objective's threshold."""
    line = alt.Chart(points).mark_line(point=len(points) <= 120).encode(
        x=_time_axis(), y=alt.Y(f"{field}:Q", title=title),
        tooltip=[alt.Tooltip("at:T", format="%Y-%m-%d %H:%M:%S"),
                 alt.Tooltip(f"{field}:Q", format=".1f")])
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(
        strokeDash=[6, 4], color="#ff7f0e").encode(y="threshold:Q", tooltip=["threshold:Q"])
    return _with(line, [incidents_layer(incidents), rule])


def burndown_chart(series: pd.DataFrame, start, end, incidents: pd.DataFrame
                   ) -> alt.LayerChart:
    """Error budget left over the SLO window, beside a steady burn from 100 % to 0 %."""
    area = alt.Chart(series).mark_line(interpolate="step-after", color="#1f77b4").encode(
        x=_time_axis(), y=alt.Y("budget left:Q", title="error budget left %"),
        tooltip=[alt.Tooltip("at:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("budget left:Q", format=".1f")])
    steady = alt.Chart(pd.DataFrame({"at": [start, end], "budget left": [100.0, 0.0]})).mark_line(
        strokeDash=[4, 4], color="#999999").encode(x="at:T", y="budget left:Q")
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color=INCIDENT_COLOR).encode(
        y="zero:Q")
    return _with(area, [incidents_layer(incidents), steady, zero])


def history_chart(history: pd.DataFrame) -> alt.Chart:
    """Months across, objectives down, met / missed / no data / not in force as colours."""
    return alt.Chart(history).mark_rect(stroke="white").encode(
        x=alt.X("month:O", title=None),
        y=alt.Y("key:N", title=None),
        color=alt.Color("result:N", scale=alt.Scale(
            domain=["met", "missed", "no data", "not in force"],
            range=["#2ca02c", "#d62728", "#cccccc", "#f0f0f0"])),
        tooltip=["month:O", "product:N", "objective:N", "target:N",
                 alt.Tooltip("compliance %:Q", format=".3f"), "result:N",
                 alt.Tooltip("budget spent %:Q", format=".1f")],
    ).properties(height=max(120, 28 * history["key"].nunique()))
