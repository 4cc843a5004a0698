"""scripts/smoke.py, the deploy workflow's smoke test, against a real local API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flightdelay import datasets, schema
from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.server import RunningServer
from tests.factories import BASE_TIME, stage_model
from training.models import logistic_regression

SCRIPT = Path(__file__).parents[2] / "scripts" / "smoke.py"


def run_smoke(url: str, timeout: str = "3") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # -S -I: no site-packages, as on a bare CI runner: the standard library and the checkout only.
        [sys.executable, "-S", "-I", str(SCRIPT), url, "--timeout", timeout],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_smoke_test_passes_against_a_serving_api(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path))
    flights = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END).iloc[::20])
    m = stage_model(registry, logistic_regression(0).fit(flights, schema.target(flights)), now=BASE_TIME)
    registry.promote(m.version, reason="smoke")
    with RunningServer(create_app(get_settings(models_url=str(tmp_path)))) as server:
        result = run_smoke(server.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK ")


def test_a_first_deployment_with_nothing_promoted_yet_passes(tmp_path: Path) -> None:
    with RunningServer(create_app(get_settings(models_url=str(tmp_path)))) as server:
        result = run_smoke(server.url, timeout="1")
    assert result.returncode == 0, result.stderr
    assert "no model has been promoted yet" in result.stdout


def test_the_smoke_test_fails_when_the_promoted_model_cannot_be_loaded(tmp_path: Path) -> None:
    (tmp_path / "latest.txt").write_text("prod/20131201T000000Z-deadbeef/model.skops")
    with RunningServer(create_app(get_settings(models_url=str(tmp_path)))) as server:
        result = run_smoke(server.url, timeout="1")
    assert result.returncode == 1
    assert "FAIL /ready answered 503" in result.stderr
    assert "20131201T000000Z-deadbeef" in result.stderr


def test_the_smoke_test_fails_when_nothing_listens() -> None:
    result = run_smoke("http://127.0.0.1:9", timeout="1")
    assert result.returncode == 1
    assert "cannot connect" in result.stderr
