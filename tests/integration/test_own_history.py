"""Bring your own history: a BTS month from an airport outside New York, seeded, trained and served
by the commands a user runs (real processes, a real uvicorn server)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.bts_files import IEM_ASOS, REPORTING, csv_bytes, month, zipped_like_bts

BTS_NAME = "On_Time_Reporting_Carrier_On_Time_Performance_(1987_present)_2019_1"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
def stores(tmp_path: Path) -> dict[str, str]:
    return {
        "FLIGHTDELAY_DATA_URL": str(tmp_path / "data"),
        "FLIGHTDELAY_MODELS_URL": str(tmp_path / "models"),
    }


def test_seed_refuses_a_file_that_is_not_bts_in_one_line_with_exit_2(
    tmp_path: Path, stores: dict[str, str]
) -> None:
    weather = tmp_path / "asos.csv"
    weather.write_bytes(csv_bytes(IEM_ASOS, [], bts_style=False))
    result = run_cli("seed", "--bts", str(weather), env=stores)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {weather} is not a BTS On-Time Performance file")
    assert "FlightDate" in line
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("*.parquet"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_bts_month_from_denver_seeds_trains_and_serves_end_to_end(
    tmp_path: Path, stores: dict[str, str]
) -> None:
    archive = zipped_like_bts(
        tmp_path / f"{BTS_NAME}.zip", f"{BTS_NAME}.csv", csv_bytes(REPORTING, month(2019, 1))
    )
    seeded = run_cli("seed", "--bts", str(archive), env=stores)
    assert seeded.returncode == 0, seeded.stderr
    summary = json.loads(seeded.stdout)
    assert (summary["source"], summary["partitions"], summary["first_date"]) == ("bts", 31, "2019-01-01")
    assert summary["files"][0]["layout"] == "Reporting Carrier"

    trained = run_cli("train", "--candidates", "logistic_regression", env=stores)
    assert trained.returncode == 0, trained.stderr
    version = json.loads(trained.stdout)["version"]
    promoted = run_cli("promote", version, env=stores)
    assert promoted.returncode == 0, promoted.stderr

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **stores, "FLIGHTDELAY_API_LOG_ANSWERS": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API never became ready"
            time.sleep(0.3)
        flights = [
            {"carrier": carrier, "origin": "DEN", "dest": "PHX", "scheduled_departure": departure}
            for carrier, departure in (("WN", "2019-02-04T07:05"), ("F9", "2019-02-04T20:35"))
        ]
        answer = httpx.post(f"{base}/predict", json={"flights": flights}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model_version"] == version
        early, late = body["predictions"]
        assert early["unseen"] == []  # Denver, its carriers and routes were learned
        assert late["unseen"] == []
        assert late["probability"] > early["probability"]  # the month's evening F9 flights ran late
    finally:
        server.terminate()
        server.wait(timeout=15)
