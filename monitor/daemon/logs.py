"""Logging for the daemon: one line per problem, as text for people or JSON for machines; every
line redacted (`values.secrets`), whoever logged it — a library's message included."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from monitor.values.secrets import redacted


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return redacted(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": redacted(record.getMessage())}
        entry.update({key: redacted(value) if isinstance(value, str) else value
                      for key, value in getattr(record, "fields", {}).items()})
        if record.exc_info:
            entry["exception"] = redacted(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def setup_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "azure", "aiohttp.access", "alembic", "urllib3", "mail.log", "psycopg"):
        logging.getLogger(noisy).setLevel(logging.WARNING if noisy == "alembic" else logging.ERROR)
