"""Status badges of products and objectives: a small flat SVG drawn here (no external service)
and the shields.io endpoint document (https://shields.io/badges/endpoint-badge), one colour
per status."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import escape

from monitor.evaluation.mesh import ObjectiveEvaluation
from monitor.slo import Status, worst_status
from monitor.values.text import percent

# shields.io's named colour (its endpoint JSON) and the same colour in hex (the SVG drawn here)
STATUS_COLOR: dict[Status, tuple[str, str]] = {
    Status.OK: ("brightgreen", "#4c1"),
    Status.AT_RISK: ("orange", "#fe7d37"),
    Status.BREACHED: ("red", "#e05d44"),
    Status.NO_DATA: ("lightgrey", "#9f9f9f"),
    Status.NOT_IN_FORCE: ("lightgrey", "#9f9f9f"),
}
UNKNOWN_COLOR = ("lightgrey", "#9f9f9f")
LABEL_COLOR = "#555"
MAX_TEXT = 60  # characters of a label or message; a badge is read at a glance
# Verdana 11 px advance widths (what shields.io measures with), rounded; others count WIDE
NARROW = dict.fromkeys("fijlrtI!|.,:;'`()[]{} ", 4.0)
WIDE = dict.fromkeys("mwMW%@", 10.5)
UPPER = 7.6
DEFAULT = 6.9


class BadgeValue(StrEnum):
    """What an objective's badge shows beside its status."""

    COMPLIANCE = "compliance"  # good events / all events over the window, e.g. 99.95%
    BUDGET = "budget"  # error budget left, e.g. 42% budget left


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    status: Status | None  # None: not a status (an unknown product)

    @property
    def colors(self) -> tuple[str, str]:
        return STATUS_COLOR[self.status] if self.status is not None else UNKNOWN_COLOR

    def shields(self) -> dict:
        """The shields.io endpoint document (schemaVersion 1)."""
        document = {"schemaVersion": 1, "label": self.label, "message": self.message,
                    "color": self.colors[0]}
        return document if self.status is not None else {**document, "isError": True}

    def svg(self) -> str:
        """A flat badge, 20 px high: the label on grey, the message on the status's colour."""
        label_width, message_width = _width(self.label) + 10, _width(self.message) + 10
        width = label_width + message_width
        label, message = escape(self.label), escape(self.message)
        title = f"{label}: {message}"
        # ids of its own, so that badges inlined in one page do not clip each other
        key = f"{zlib.crc32(title.encode()):08x}"
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
            f'aria-label="{escape(title, {chr(34): "&quot;"})}"><title>{title}</title>'
            f'<linearGradient id="s{key}" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
            'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r{key}"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#r{key})"><rect width="{label_width}" height="20" fill="{LABEL_COLOR}"/>'
            f'<rect x="{label_width}" width="{message_width}" height="20" fill="{self.colors[1]}"/>'
            f'<rect width="{width}" height="20" fill="url(#s{key})"/></g>'
            '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
            'font-size="11">'
            + _text(label, label_width / 2) + _text(message, label_width + message_width / 2)
            + "</g></svg>")


def product_badge(product_id: str, reports: list[ObjectiveEvaluation], label: str | None = None
                  ) -> Badge:
    """A product's badge: its worst objective's status (no objectives: no data)."""
    status = worst_status(r.evaluation.status for r in reports)
    return Badge(_bounded(label or product_id), status_text(status), status)


def objective_badge(report: ObjectiveEvaluation, value: BadgeValue = BadgeValue.COMPLIANCE,
                    label: str | None = None) -> Badge:
    """An objective's badge: its status and its compliance or error budget left."""
    evaluation = report.evaluation
    status = evaluation.status
    shown = None
    if value is BadgeValue.COMPLIANCE and evaluation.compliance is not None:
        shown = percent(evaluation.compliance, 2)
    elif value is BadgeValue.BUDGET and evaluation.error_budget_remaining is not None:
        left = evaluation.error_budget_remaining
        shown = f"{percent(left, 0)} budget left" if left > 0 else "budget spent"
    message = status_text(status) + (f" · {shown}" if shown else "")
    return Badge(_bounded(label or report.objective.name), message, status)


def unknown_badge(what: str) -> Badge:
    return Badge("meshwatch", _bounded(what), None)


def status_text(status: Status) -> str:
    """A status as people read it: `at risk`, `no data`."""
    return status.value.replace("_", " ")


def _bounded(text: str) -> str:
    text = " ".join(text.split())  # one line
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _width(text: str) -> int:
    return round(sum(NARROW.get(c) or WIDE.get(c) or (UPPER if c.isupper() else DEFAULT)
                     for c in text))


def _text(escaped: str, middle: float) -> str:
    """Text centred at `middle`, over its shadow one pixel lower."""
    return (f'<text x="{middle:g}" y="15" fill="#010101" fill-opacity=".3">{escaped}</text>'
            f'<text x="{middle:g}" y="14">{escaped}</text>')
