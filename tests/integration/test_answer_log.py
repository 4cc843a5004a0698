"""The API's answer log under a real uvicorn: every answer lands in DATA predictions/, and a store
that fails never fails a prediction."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from cli.flights import as_flights
from flightdelay import answers, datasets
from flightdelay.conditions import Known
from flightdelay.config import get_settings
from flightdelay.errors import StorageError
from flightdelay.registry import Registry
from flightdelay.serving import scheduled
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.journal import AnswerLog
from services.api.metrics import ApiMetrics
from services.api.server import RunningServer
from tests.factories import BASE_TIME, stage_model

DAY = date(2013, 12, 2)


@pytest.fixture(scope="module")
def model(shared_models: Callable[[str], Any]) -> Any:
    return shared_models("hgb")


@pytest.fixture
def live(tmp_path: Path, model: Any) -> tuple[Path, str]:
    registry = Registry(LocalStore(tmp_path / "models"))
    manifest = stage_model(registry, model, now=BASE_TIME)
    registry.promote(manifest.version, reason="test")
    return tmp_path / "models", manifest.version


def requests_of(flights: Any) -> list[dict[str, Any]]:
    """Real flights as the API's client sends them."""
    return [flight.body() for flight in as_flights(flights)]


def test_every_answer_is_logged_with_what_was_asked_and_answered(
    live: tuple[Path, str], tmp_path: Path
) -> None:
    models, version = live
    flights = datasets.load_flights(DAY, DAY).iloc[:300]
    settings = get_settings(models_url=str(models), data_url=str(tmp_path / "data"), api_log_flush_seconds=60)
    with RunningServer(create_app(settings)) as api:
        batch = httpx.post(f"{api.url}/predict", json={"flights": requests_of(flights)}, timeout=30)
        one = httpx.post(f"{api.url}/predict", json=requests_of(flights.iloc[:1])[0], timeout=30)
        assert batch.status_code == one.status_code == 200
        # Nothing is written on the request path: the flush is 60 s away.
        assert answers.read(LocalStore(tmp_path / "data"), DAY).empty
    # Shutting down flushes what is pending.
    logged = answers.read(LocalStore(tmp_path / "data"), DAY)
    assert len(logged) == 301
    answered = [p["probability"] for p in batch.json()["predictions"]] + [one.json()["probability"]]
    assert np.allclose(logged["probability"].to_numpy(), answered, atol=1e-4)
    assert (logged["model_version"] == version).all()
    assert (logged["delayed"] == (logged["probability"] >= logged["threshold"])).all()
    assert [p["delayed"] for p in batch.json()["predictions"]] == logged["delayed"].tolist()[:300]
    asked = pd.DataFrame(requests_of(flights))
    assert logged["carrier"].tolist()[:300] == asked["carrier"].tolist()
    assert (logged["sched_dep_local"].iloc[:300].to_numpy() == flights["sched_dep_local"].to_numpy()).all()


def test_a_failing_store_never_fails_a_prediction_and_the_loss_is_counted(
    live: tuple[Path, str], tmp_path: Path
) -> None:
    models, _ = live
    broken = tmp_path / "not-a-directory"
    broken.write_text("a file where the DATA store should be: every write fails")
    settings = get_settings(
        models_url=str(models), data_url=str(broken), api_log_flush_seconds=0.05, api_log_max_rows=50
    )
    flights = requests_of(datasets.load_flights(DAY, DAY).iloc[:40])
    with RunningServer(create_app(settings)) as api:
        for _ in range(5):  # 200 answers against room for 50
            assert httpx.post(f"{api.url}/predict", json={"flights": flights}, timeout=30).status_code == 200
        metrics = httpx.get(f"{api.url}/metrics").text
    lost = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("flightdelay_answers_lost_total")
    )
    assert lost >= 150


def test_waiting_answers_leave_the_collector_nothing_to_walk_per_flight(tmp_path: Path) -> None:
    """A full collection walks every tracked object, on the event loop: answers waiting for their
    flush must not be an object per flight (a 25,000-answer buffer made each pause 2-13 ms)."""
    log = AnswerLog(LocalStore(tmp_path), ApiMetrics(), max_rows=100_000, flush_seconds=10)
    gc.collect()
    before = len(gc.get_objects())
    asked = scheduled(
        ["B6"] * 10_000,
        ["JFK"] * 10_000,
        ["SYR"] * 10_000,
        np.datetime64("2013-12-02T06:00") + np.arange(10_000).astype("timedelta64[m]"),
    )
    for start in range(0, len(asked), 100):  # 100 model calls of 100 flights
        calls = asked[start : start + 100]
        log.record(
            calls,
            np.full(len(calls), 0.2),
            Known.unknown(len(calls)),
            model_version="v",
            threshold=0.3,
            conditions_as_of=None,
        )
    del asked, calls
    gc.collect()
    assert log.pending_rows == 10_000
    assert len(gc.get_objects()) - before < 1_000  # a few objects a model call, none per flight


class FlakyStore(LocalStore):
    """A LocalStore whose first ``failures`` writes fail, as an unreachable bucket's would."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise StorageError("the bucket is unreachable", store="flaky", key=key)
        return super().put(key, data, if_match=if_match, if_absent=if_absent)


def _answered(log: AnswerLog, n: int) -> None:
    asked = scheduled(
        ["B6"] * n,
        ["JFK"] * n,
        ["SYR"] * n,
        np.datetime64("2013-12-02T00:00") + np.arange(n).astype("timedelta64[m]"),  # all on DAY
    )
    log.record(
        asked, np.full(n, 0.2), Known.unknown(n), model_version="v", threshold=0.3, conditions_as_of=None
    )


async def _shut_down(log: AnswerLog) -> None:
    """The answer log's life in the API: running, then cancelled by the shutdown."""
    task = asyncio.create_task(log.run())
    await asyncio.sleep(0.05)
    _answered(log, 1200)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _counted(metrics: ApiMetrics, name: str) -> float:
    return sum(
        sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == name
    )


def test_a_last_flush_that_fails_once_is_retried_and_written_once(tmp_path: Path) -> None:
    store, metrics = FlakyStore(tmp_path / "data", failures=1), ApiMetrics()
    log = AnswerLog(
        store, metrics, max_rows=10_000, flush_seconds=60, spill_dir=tmp_path / "spill", retry_seconds=0.01
    )
    asyncio.run(_shut_down(log))
    assert len(answers.read(store, DAY)) == 1200  # once: the retry rewrote the same part
    assert _counted(metrics, "flightdelay_answers_logged_total") == 1200


def test_a_last_flush_the_store_refuses_is_spilled_counted_and_written_by_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe's case: 1,200 answers pending at SIGTERM, the bucket unreachable. They were
    dropped, uncounted; now they are kept in a local file, counted and logged, and the next process
    on the same store writes them."""
    down, metrics = FlakyStore(tmp_path / "data", failures=10**6), ApiMetrics()
    spill = tmp_path / "spill"
    log = AnswerLog(down, metrics, max_rows=10_000, flush_seconds=60, spill_dir=spill, retry_seconds=0.01)
    with caplog.at_level(logging.ERROR, logger="services.api.journal"):
        asyncio.run(_shut_down(log))
    assert _counted(metrics, "flightdelay_answers_spilled_total") == 1200
    assert "1200 answers kept in" in caplog.text
    assert len(list(spill.glob("*.parquet"))) == 1

    up = LocalStore(tmp_path / "data")
    later = AnswerLog(up, ApiMetrics(), max_rows=10_000, flush_seconds=60, spill_dir=spill)

    async def start_and_stop() -> None:
        task = asyncio.create_task(later.run())
        await asyncio.sleep(0.2)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(start_and_stop())
    logged = answers.read(up, DAY)
    assert len(logged) == 1200
    assert (logged["model_version"] == "v").all()
    assert not list(spill.glob("*.parquet"))


def test_answers_neither_written_nor_spilled_are_counted_lost(tmp_path: Path) -> None:
    down, metrics = FlakyStore(tmp_path / "data", failures=10**6), ApiMetrics()
    spill = tmp_path / "a-file"
    spill.write_text("not a directory: the spill fails too")
    log = AnswerLog(down, metrics, max_rows=10_000, flush_seconds=60, spill_dir=spill, retry_seconds=0.01)
    asyncio.run(_shut_down(log))
    assert _counted(metrics, "flightdelay_answers_lost_total") == 1200
