"""Charts: Altair charts of the product page, and the overview's picture of the mesh. Times
arrive as naive wall-clock times of the configured zone (see mesh.wall_times), so the axis reads
the same in every browser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from monitor.contracts.lineage import Lineage
from monitor.contracts.model import DataProduct
from monitor.slo import Status

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


# ── the mesh picture (Graphviz DOT, laid out and drawn in the browser by st.graphviz_chart) ──

STATUS_FILL = {Status.BREACHED: "#d62728", Status.AT_RISK: "#ff7f0e", Status.NO_DATA: "#9e9ac8",
               Status.OK: "#2ca02c", Status.NOT_IN_FORCE: "#d9d9d9"}
STATUS_FONT = {Status.BREACHED: "white", Status.AT_RISK: "black", Status.NO_DATA: "black",
               Status.OK: "white", Status.NOT_IN_FORCE: "black"}
BAD = (Status.BREACHED, Status.AT_RISK)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def mesh_dot(products: Sequence[DataProduct], statuses: Mapping[str, Status],
             lineage: Lineage) -> str:
    """The mesh as a DOT graph: one cluster per domain, one node per product filled with the
    colour of its status (worst objective), an arrow from each upstream product to the products
    it feeds. A breached or at-risk product none of whose upstream products is bad is where a
    breach starts: thick border, `starts here` in its label; arrows leaving a bad product take
    its colour, so what it reaches reads along them."""
    shown = {product.id for product in products}
    lines = ["digraph mesh {", "  rankdir=LR; bgcolor=transparent; nodesep=0.3; ranksep=0.6;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12];',
             '  edge [color="#888888", arrowsize=0.8];']
    domains: dict[str, list[DataProduct]] = {}
    for product in sorted(products, key=lambda p: p.id):
        domains.setdefault(product.domain, []).append(product)
    for domain, members in domains.items():
        lines.append(f"  subgraph {_quoted('cluster_' + domain)} {{")
        lines.append(f'    label={_quoted(domain)}; style="rounded,dashed"; color="#999999"; '
                     'fontname="Helvetica";')
        for product in members:
            status = statuses.get(product.id, Status.NO_DATA)
            origin = status in BAD and not any(
                statuses.get(source) in BAD for source in lineage.ancestors(product.id))
            label = f"{product.name}\n{status.value.replace('_', ' ')}"
            label += "\nstarts here" if origin else ""
            lines.append(f"    {_quoted(product.id)} [label={_quoted(label)}, "
                         f"fillcolor={_quoted(STATUS_FILL[status])}, "
                         f"fontcolor={_quoted(STATUS_FONT[status])}, "
                         f"tooltip={_quoted(f'{product.id}: {status.value}')}"
                         + (", penwidth=3" if origin else ", penwidth=1") + "];")
        lines.append("  }")
    for source, target in lineage.edges():
        if source in shown and target in shown:
            status = statuses.get(source, Status.NO_DATA)
            style = (f' [color={_quoted(STATUS_FILL[status])}, penwidth=2.5]' if status in BAD
                     else "")
            lines.append(f"  {_quoted(source)} -> {_quoted(target)}{style};")
    lines.append("}")
    return "\n".join(lines)
