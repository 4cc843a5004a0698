"""The command line as a newcomer meets it: help that reads as written, a wrong value answered with
a right one, a taken port in one line, and nothing meant for CloudWatch on a person's terminal."""

from __future__ import annotations

import io
import itertools
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from tests.factories import BASE_TIME, artifact_bytes, metadata, staged
from tests.integration.test_cli import run_cli

COMMANDS = ["seed", "ask", "replay-server", "demo", "status", "promote", "rollback", "history", "train",
            "fetch", "conditions", "evaluate", "monitor", "serve"]  # fmt: skip


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLIGHTDELAY_DATA_URL", str(tmp_path / "data"))
    monkeypatch.setenv("FLIGHTDELAY_MODELS_URL", str(tmp_path / "models"))
    return tmp_path


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


WIDTH = 100


def _description(text: str) -> list[str]:
    """The help's own prose: after the usage line, before the first list of options or commands."""
    body = re.split(r"\n(?:Arguments:|Options:|Commands:|╭)", text)[0].split("\n", 1)[-1]
    return [line.strip(" │") for line in body.splitlines() if line.strip(" │")]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_reads_as_written(command: str | None) -> None:
    result = CliRunner().invoke(app, [command, "--help"] if command else ["--help"], terminal_width=WIDTH)
    assert result.exit_code == 0
    assert "<bool>" not in result.output  # a flag takes no value
    lines = _description(result.output)
    assert lines
    assert not [line for line in lines if re.search(r"\S  +\S", line)], lines  # no doubled spaces
    # A sentence goes on to the next line only where the terminal had no room left for its next word.
    for line, after in itertools.pairwise(lines):
        if after[0].islower():
            assert len(line) + 1 + len(after.split()[0]) > WIDTH - 8, (line, after)


def test_help_keeps_square_brackets() -> None:
    result = CliRunner().invoke(app, ["ask", "--help"], terminal_width=100)
    assert "the days [start, end]" in " ".join(result.output.split())
    serve = CliRunner().invoke(app, ["serve", "--help"], terminal_width=100)
    assert "[default: FLIGHTDELAY_API_HOST]" in " ".join(serve.output.split())


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "http://127.0.0.1:1", "--start", "2013-12-1x", "--end", "2013-12-02"],
        ["evaluate", "--end", "2013-13-01"],
        ["monitor", "--start", "12/08/2013"],
        ["train", "--end", "yesterday"],
        ["conditions", "--at", "2013-12-09"],
        ["replay-server", "--clock", "noon"],
    ],
)
def test_a_bad_date_says_what_a_valid_one_looks_like(args: list[str], stores: Path) -> None:
    result = CliRunner().invoke(app, args, terminal_width=100)
    shown = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2
    assert re.search(r"expected YYYY-MM-DD(THH:MM \(UTC\))?, e\.g\. 2013-12-0\d", shown), shown
    assert "Value error" not in shown


def test_status_lists_the_trained_models_newest_first_and_says_so(stores: Path) -> None:
    models = staged(Registry(LocalStore(stores / "models")), 3)
    result = CliRunner().invoke(app, ["status"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Trained models (newest first)" in result.output
    rows = [m.version for m in models if m.version in result.output]
    order = sorted(rows, key=result.output.index)
    assert order == [m.version for m in reversed(models)]


def test_evaluate_with_nothing_staged_says_so_in_words(stores: Path) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--end", "2013-12-07", "--no-watch"])
    assert result.exit_code == 12
    lines = [line for line in result.stderr.splitlines() if line.startswith("Nothing to evaluate")]
    assert lines == ["Nothing to evaluate: no staged model is waiting for a verdict"], result.stderr


def test_replay_server_on_a_taken_port_says_so_in_one_line(taken_port: int) -> None:
    result = run_cli("replay-server", "--port", str(taken_port), env={})
    assert result.returncode == 8
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{taken_port} (Address already in use): another process holds "
        "it; choose another with --port"
    ]


def test_demo_serve_on_a_taken_port_stops_before_it_starts(stores: Path, taken_port: int) -> None:
    result = run_cli(
        "demo",
        "--serve",
        env={
            "FLIGHTDELAY_API_PORT": str(taken_port),
            "FLIGHTDELAY_DATA_URL": str(stores / "data"),
            "FLIGHTDELAY_MODELS_URL": str(stores / "models"),
        },
    )
    assert result.returncode == 8
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{taken_port} (Address already in use): another process holds "
        "it; choose another with --port or FLIGHTDELAY_API_PORT"
    ]
    assert not (stores / "data").exists()  # nothing seeded, trained or fetched first


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_metrics_line_is_for_cloudwatch_not_for_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.evaluator import monitor

    terminal, pipe = _Terminal(), io.StringIO()
    monkeypatch.setattr("sys.stderr", terminal)
    monitor._to_stderr('{"_aws": {}}')
    monkeypatch.setattr("sys.stderr", pipe)
    monitor._to_stderr('{"_aws": {}}')
    assert terminal.getvalue() == ""  # a person reads the watch's own lines instead
    assert pipe.getvalue() == '{"_aws": {}}\n'  # CloudWatch reads ECS's output: one JSON line


def test_the_demo_calls_an_identical_model_the_same_not_better(tmp_path: Path) -> None:
    from cli.demo import _forward_line

    registry = Registry(LocalStore(tmp_path / "models"))
    same = artifact_bytes({"model": "same"})
    first = registry.stage(same, metadata(), now=BASE_TIME)  # a first demo's second model …
    again = registry.stage(same, metadata(), now=BASE_TIME + timedelta(days=1))  # … trained again
    registry.promote(first.version, reason="first demo")
    registry.promote(again.version, reason="second demo")
    registry.rollback()
    forward = registry.rollback(to=again.version)
    line = _forward_line(registry, first.version, forward, 0.5)
    assert forward.verdict == "rolled_forward"
    assert "better" not in line
    assert f"the same model as {first.version}" in line


def test_the_demo_calls_a_model_the_evaluator_promoted_over_another_the_better(tmp_path: Path) -> None:
    from cli.demo import _forward_line

    registry = Registry(LocalStore(tmp_path / "models"))
    first, second = staged(registry, 2)
    registry.promote(first.version, reason="first")
    registry.promote(second.version, reason="second")
    registry.rollback()
    line = _forward_line(registry, first.version, registry.rollback(to=second.version), 0.5)
    assert f"forward again to the better {second.version}" in line
