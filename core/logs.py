"""Structured logging: one JSON object per line, with the request id where there is one."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line; ``extra={...}`` keys become fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


def configure_logging(*, debug: bool = False) -> None:
    """Send the service's logs to stderr as JSON lines (idempotent)."""
    root = logging.getLogger("crm")
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if not any(getattr(h, "_crm", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._crm = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.propagate = False
