"""A governance report as a notification: the rendered document, the month it covers, a line of
summary. Like an alert's `Message`, it is stored in the outbox as plain JSON (`to_payload`, marked
`kind: report`) and each notifier that carries reports (`Notifier.send_report`) delivers it its
own way: email as an attachment, webhook inline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_KIND = "report"  # the outbox payload's `kind`; an alert's payload has none
MEDIA_TYPES = {"html": "text/html", "csv": "text/csv", "md": "text/markdown",
               "json": "application/json"}


@dataclass(frozen=True)
class ReportMessage:
    report: str  # which report: "uptime"
    month: str  # the calendar month it covers, e.g. "2026-10"
    timezone: str  # the zone the month is a calendar month of
    format: str  # html, csv, md or json: the document as `meshwatch report uptime` renders it
    content: str  # the document
    summary: str  # one line for people: products, objectives met and missed
    at: str  # ISO-8601 UTC: when it was queued
    delivery_id: str | None = field(default=None, compare=False)  # set when sent

    @property
    def filename(self) -> str:
        return f"meshwatch-{self.report}-{self.month}.{self.format}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def subject(self) -> str:
        return f"[REPORT] meshwatch {self.report} report {self.month} ({self.timezone})"

    def text(self) -> str:
        """A short body for people; the document itself goes along as it is."""
        return (f"The {self.report} report of {self.month} ({self.timezone}) is attached as "
                f"{self.filename}.\n\n{self.summary}\n\nThe same document is printed by "
                f"`meshwatch report {self.report} --month {self.month} --format {self.format}`.\n")

    def to_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload.pop("delivery_id")
        return {"kind": REPORT_KIND, **payload}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], delivery_id: str | None = None) -> ReportMessage:
        fields = {key: value for key, value in payload.items() if key != "kind"}
        return cls(**fields, delivery_id=delivery_id)


def is_report(payload: dict[str, Any] | None) -> bool:
    """Whether an outbox payload is a report (else it is an alert `Message`)."""
    return payload is not None and payload.get("kind") == REPORT_KIND
