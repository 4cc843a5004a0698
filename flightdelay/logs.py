"""Logging with secrets masked before anything is written: JSON lines when nobody watches
(CloudWatch reads an ECS task's output, one JSON object a line), plain lines on a terminal.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# access_key=... in URLs and query strings, wherever it appears in a message or traceback
_ACCESS_KEY = re.compile(r"(access_key=)[^&\s\"'<>]+", re.IGNORECASE)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this value in every log line from now on."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """The text with known secrets and ``access_key=…`` values replaced by ``***``."""
    text = _ACCESS_KEY.sub(r"\1***", text)
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


class PlainFormatter(logging.Formatter):
    """One readable line for a person: time, level, message, then the extra fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        )
        when = datetime.fromtimestamp(record.created, UTC)
        line = f"{when:%H:%M:%S} {record.levelname.lower():7} {record.getMessage()}"
        if extra:
            line += f"  ({extra})"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def configure_logging(level: str = "INFO", *, stream: Any = None) -> None:
    """Send every logger's records to ``stream`` (stdout): plain lines if it is a terminal, else
    JSON lines. Safe to call twice."""
    target = stream or sys.stdout
    handler = logging.StreamHandler(target)
    is_terminal = getattr(target, "isatty", lambda: False)()
    handler.setFormatter(PlainFormatter() if is_terminal else JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
