"""What the store can hold, and so what a contract and a probe may give it: one home for each size."""

from __future__ import annotations

NAME_LENGTH = 200  # a product id (`domain/name`), a port's, an objective's or a run's name
ERROR_TEXT_LENGTH = 500  # an error text kept per probe or per delivery, after redaction
YEARS = (1971, 9000)  # the years meshwatch evaluates and reports: a 100-year window fits either side
