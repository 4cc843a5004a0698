"""Watching the live model on real replayed days: the fetcher brings December 8 from the replayed
Aviation Stack, the API (real uvicorn) answers about that day's flights before they leave, and the
monitor joins its answers with what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sklearn.metrics import roc_auc_score

from cli.flights import as_flights
from flightdelay import answers, datasets, schema
from flightdelay.config import get_settings
from flightdelay.partitions import read_partitions
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from offline.aviationstack import ReplayServer
from services.api.app import create_app
from services.api.server import RunningServer
from services.evaluator.monitor import monitor
from services.fetcher.fetch import run_fetch
from tests.factories import BASE_TIME, stage_model, write_days

KEY = "replay-monitor-key"
DAY = date(2013, 12, 8)


@pytest.fixture(scope="module")
def model(shared_models: Callable[[str], Any]) -> Any:
    return shared_models("hgb")


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(key=KEY) as server:
        yield server


def requests_of(flights: Any) -> list[dict[str, Any]]:
    """Real flights as the API's client sends them."""
    return [flight.body() for flight in as_flights(flights)]


def test_the_live_models_answers_are_judged_against_what_happened(
    tmp_path: Path, model: Any, replay: ReplayServer
) -> None:
    data, models = LocalStore(tmp_path / "data"), Registry(LocalStore(tmp_path / "models"))
    write_days(data, "training", datasets.load_flights(date(2013, 11, 1), datasets.TRAINING_END).iloc[::3])
    live = stage_model(models, model, now=BASE_TIME)
    models.promote(live.version, reason="test")
    settings = get_settings(
        data_url=str(data.root),
        models_url=str(tmp_path / "models"),
        aviationstack_url=replay.url,
        aviationstack_key=KEY,
        fetch_backoff_seconds=0.01,
    )
    # The day as scheduled, asked about before it happens (each flight once, a few twice).
    scheduled = datasets.load_flights(DAY, DAY)
    asked = requests_of(scheduled)
    with RunningServer(create_app(settings)) as api:
        httpx.post(f"{api.url}/predict", json={"flights": asked[:40]}, timeout=30).raise_for_status()
        last = httpx.post(f"{api.url}/predict", json={"flights": asked}, timeout=60)
        last.raise_for_status()
    # Then the fetcher brings the day's outcomes, and the evaluator's watch joins them.
    run_fetch(settings, data, DAY)
    lines: list[str] = []
    record = monitor(settings, data, models, DAY, emit=lines.append)

    outcomes = schema.labelled(read_partitions(data, "new/clean", DAY, DAY))
    outcomes = outcomes.drop_duplicates(answers.JOIN_KEY, keep=False)  # one flight per key
    assert record.answers == len(asked) + 40
    assert record.model_version == live.version
    assert record.quality is not None
    assert record.quality.flights == len(outcomes)  # every flight with an outcome was answered
    # The same figures from the model itself, on the fetched outcomes.
    p = model.predict_proba(outcomes)[:, 1]
    y = schema.target(outcomes)
    assert record.quality.roc_auc == pytest.approx(roc_auc_score(y, p), abs=2e-3)
    assert record.quality.late_share == pytest.approx(y.mean(), abs=1e-4)
    assert record.quality.flag_accuracy == pytest.approx(((p >= live.threshold) == y).mean(), abs=2e-3)
    assert set(record.by_origin) == {"EWR", "JFK", "LGA"}
    assert sum(s.flights for s in record.by_origin.values()) == len(outcomes)
    assert "UA" in record.by_carrier
    # Drift: the week to December 8 against the training window (November here).
    assert record.drift is not None
    assert record.drift.reference.end == date(2013, 11, 30)
    assert set(record.drift.psi) >= {"carrier", "dep_hour", "distance_km"}
    assert record.drift.recent.base_rate > record.drift.reference.base_rate  # December is later
    # Stored beside the decisions, and emitted as embedded metrics.
    assert models.monitoring()[0] == record
    emf = json.loads(lines[0])
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "flightdelay"
    assert emf["LiveRocAuc"] == record.quality.roc_auc
    assert {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]} >= {
        "LiveRocAuc",
        "DriftMaxPsi",
    }

    # What the API shows of it: /status (and its data), the model card, and reports by id only.
    with RunningServer(create_app(settings)) as api:
        status = httpx.get(f"{api.url}/status.json").json()
        page = httpx.get(f"{api.url}/status").text
        card = httpx.get(f"{api.url}/model").json()
        traversal = httpx.get(f"{api.url}/reports/..%2F..%2Flatest.txt")
    assert status["live"]["version"] == live.version
    assert status["live"]["since"] is not None
    assert [q["day"] for q in status["quality"]] == [DAY.isoformat()]
    assert status["quality"][0]["roc_auc"] == record.quality.roc_auc
    assert status["drift"]["max_psi"] == record.drift.max_psi
    assert {r["stage"]: r["outcome"] for r in status["runs"]}["fetch"] == "succeeded"
    assert status["decisions"][0]["verdict"] == "promoted"
    assert f"{record.quality.roc_auc:.3f}" in page
    assert "<svg" in page
    assert card["live_quality"]["flights"] == record.quality.flights
    assert card["live_quality"]["roc_auc"] == record.quality.roc_auc
    assert traversal.status_code == 404


def test_a_day_with_answers_but_no_outcomes_yet_is_recorded_without_quality(
    tmp_path: Path, model: Any
) -> None:
    data, models = LocalStore(tmp_path / "data"), Registry(LocalStore(tmp_path / "models"))
    live = stage_model(models, model, now=BASE_TIME)
    models.promote(live.version, reason="test")
    settings = get_settings(data_url=str(data.root), models_url=str(tmp_path / "models"))
    with RunningServer(create_app(settings)) as api:
        flights = requests_of(datasets.load_flights(DAY, DAY).iloc[:10])
        httpx.post(f"{api.url}/predict", json={"flights": flights}, timeout=30).raise_for_status()
    assert len(answers.read(data, DAY)) == 10
    record = monitor(settings, data, models, DAY, emit=lambda line: None)
    assert record.answers == 10
    assert record.quality is None
    assert record.drift is None  # no fetched flights to compare

    # The same from the command line: `flightdelay monitor`, and the daily task's evaluation, which
    # watches the last day of its window after its verdict (nothing staged here: exit 12).
    env = {
        **os.environ,
        "FLIGHTDELAY_DATA_URL": str(data.root),
        "FLIGHTDELAY_MODELS_URL": str(tmp_path / "models"),
    }
    watched = subprocess.run(
        [sys.executable, "-m", "cli", "monitor", "--end", DAY.isoformat()],
        capture_output=True,
        text=True,
        env=env,
    )
    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout)["days"][0]["answers"] == 10
    assert f"Watched {DAY}: 10 answers, no outcome known yet" in watched.stderr
    daily = subprocess.run(
        [sys.executable, "-m", "services.evaluator", "--end", DAY.isoformat()],
        capture_output=True,
        text=True,
        env=env,
    )
    assert daily.returncode == 12, daily.stderr
    assert json.loads(daily.stdout)["monitor"]["answers"] == 10
