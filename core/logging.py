"""Structured JSON logs: one object per line, with the request id, and never a token."""

import json
import logging
import re
from datetime import UTC, datetime

from core.middleware import request_id_var

# Extra attributes a log call may attach that are safe to print.
SAFE_EXTRA = ("method", "path", "status", "duration_ms", "actor", "status_code", "organization_id")

_SECRETS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1[redacted]"),
    (re.compile(r"(?i)(secret_key|password|api_key|token)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"), r"\1\2[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Plain text lines (development), redacted like the JSON ones."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def request_id_of(record: logging.LogRecord) -> str:
    # Django logs 4xx/5xx responses after the middleware has left; the request carries the id.
    return getattr(getattr(record, "request", None), "request_id", None) or request_id_var.get()


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": request_id_of(record),
        }
        for key in SAFE_EXTRA:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value if not isinstance(value, str) else redact(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)
