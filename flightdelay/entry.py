"""What every command-line entry shares, with no CLI framework: the stages' sub-apps and the
``flightdelay`` command use it, so a container running one stage behaves exactly like the command.

- ``start()`` builds the settings once and sends logs to stderr (stdout is the JSON summary);
- ``emit_summary`` prints a stage's JSON summary on stdout (what scripts and ECS logs read);
- ``note`` prints a line for a person on stderr;
- ``run`` calls an entry and turns an expected failure into one line on stderr and its exit code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TextIO

from flightdelay.config import Settings, get_settings
from flightdelay.errors import FlightDelayError
from flightdelay.logs import configure_logging

INTERRUPTED = 130  # the shell's code for Ctrl-C


def start(*, log_level: str | None = None, log_stream: TextIO | None = None) -> Settings:
    """The settings from the environment, with logging configured (JSON lines, on stderr unless a
    service names its stream)."""
    settings = get_settings()
    configure_logging(log_level or settings.log_level, stream=log_stream or sys.stderr)
    return settings


DAY = "YYYY-MM-DD"
MINUTE = "YYYY-MM-DDTHH:MM"


def parse_day(value: str, *, error: Callable[[str], Exception] = ValueError) -> date:
    """A day as every command takes it; a wrong one is answered with what a right one looks like.
    ``error``: the exception to raise (a CLI passes its framework's, which names the option)."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise error(f"{value!r} is not a day: expected {DAY}, e.g. 2013-12-01") from None


def parse_minute(value: str, *, error: Callable[[str], Exception] = ValueError) -> datetime:
    """A time in UTC to the minute, as the commands take it (``2013-12-09T17:00``)."""
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise error(f"{value!r} is not a time: expected {MINUTE} (UTC), e.g. 2013-12-09T17:00") from None


def emit_summary(summary: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")


def note(message: str) -> None:
    sys.stderr.write(message + "\n")


def run(entry: Callable[[], object]) -> None:
    """Run a command; an expected failure ends the process with one line and a meaningful code."""
    try:
        entry()
    except FlightDelayError as exc:
        note(f"error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        note("interrupted")
        sys.exit(INTERRUPTED)
