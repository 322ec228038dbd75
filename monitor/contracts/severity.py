"""How urgent an alert is: the word contracts use (`severity: page`) and alerting routes by."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """`page` wakes someone up; `ticket` is looked at in working hours."""

    PAGE = "page"
    TICKET = "ticket"

    @property
    def rank(self) -> int:
        """Higher is more urgent: a page outranks a ticket."""
        return _RANK[self]


_RANK = {Severity.PAGE: 2, Severity.TICKET: 1}
# Most urgent first: how alerts of one message are ordered for people.
SEVERITIES = tuple(sorted(Severity, key=lambda s: -s.rank))
