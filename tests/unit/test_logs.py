from __future__ import annotations

import io
import json
import logging

from flightdelay.logs import configure_logging, redact, register_secret


def test_log_lines_are_json_with_extra_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    logging.getLogger("flightdelay.test").info("fetched page", extra={"airport": "JFK", "offset": 100})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "fetched page"
    assert (entry["airport"], entry["offset"], entry["level"]) == ("JFK", 100, "INFO")


def test_registered_secrets_and_access_keys_never_reach_the_log() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    register_secret("k3y-0f-the-account")
    log = logging.getLogger("flightdelay.test")
    log.warning("GET https://api.example/v1/flights?access_key=abc123&limit=100")
    try:
        raise RuntimeError("failed with k3y-0f-the-account")
    except RuntimeError:
        log.exception("request failed")
    output = stream.getvalue()
    assert "abc123" not in output
    assert "k3y-0f-the-account" not in output
    assert "access_key=***" in output
    assert redact("key k3y-0f-the-account here") == "key *** here"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_person_at_a_terminal_reads_plain_lines_with_secrets_masked() -> None:
    stream = Terminal()
    configure_logging("INFO", stream=stream)
    register_secret("k3y-0f-the-terminal")
    logging.getLogger("flightdelay.test").warning(
        "could not reach k3y-0f-the-terminal", extra={"airport": "JFK"}
    )
    line = stream.getvalue().splitlines()[-1]
    assert not line.startswith("{")
    assert "warning could not reach ***  (airport=JFK)" in line


def test_the_readme_says_one_thing_about_the_log_format() -> None:
    from pathlib import Path

    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    sentences = [s for s in readme.split(". ") if "JSON lines" in s and "log" in s.lower()]
    assert sentences
    assert all("terminal" in s for s in sentences), sentences  # never "logs are JSON lines" alone
