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
