"""The fetcher's command line as a person meets it: a wrong value says what a right one looks like."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flightdelay.errors import ConfigError
from services.fetcher.cli import app
from services.fetcher.fetch import known_airports


@pytest.mark.parametrize(
    "args",
    [
        ["--date", "2013-13-01"],
        ["--date", "01/12/2013"],
        ["--start", "2013-12-1x", "--end", "2013-12-02"],
        ["--start", "2013-12-01", "--end", "tomorrow"],
    ],
)
def test_a_bad_day_says_what_a_valid_one_looks_like(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    shown = " ".join(result.output.replace("│", " ").split())  # the error box may wrap the line
    assert result.exit_code == 2
    assert "expected YYYY-MM-DD, e.g. 2013-12-01" in shown


def test_every_unknown_airport_code_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown airport code XYZ, QQQ: no IATA airport has it") as caught:
        known_airports("JFK,xyz,QQQ")
    assert caught.value.exit_code == 2


def test_known_airport_codes_are_upper_cased() -> None:
    assert known_airports(" jfk,lga ") == ["JFK", "LGA"]
