"""The API as its container runs it (``python -m services.api``, its own process) against what
would kill a process: a crafted model file. A crash here is this test's failure, not pytest's."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from flightdelay import answers
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from tests.factories import BASE_TIME, stage_model

ROOT = Path(__file__).resolve().parents[2]
FLIGHT = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-02T08:00:00"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ApiProcess:
    """``python -m services.api`` with these settings, its output kept in a file."""

    def __init__(self, tmp: Path, **settings: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = tmp / f"api-{self.port}.log"
        env = {name: value for name, value in os.environ.items() if not name.startswith("FLIGHTDELAY_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update({f"FLIGHTDELAY_{k.upper()}": str(v) for k, v in settings.items()})
        env.update(FLIGHTDELAY_API_PORT=str(self.port), FLIGHTDELAY_API_HOST="127.0.0.1")
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.api"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the API did not start: {self.log()[-2000:]}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def with_live(models: Path, model: Any) -> tuple[Path, str]:
    registry = Registry(LocalStore(models))
    version = stage_model(registry, model, now=BASE_TIME).version
    registry.promote(version, reason="the good model")
    return models, version


@pytest.fixture(scope="module")
def live_lr(
    tmp_path_factory: pytest.TempPathFactory, shared_models: Callable[[str], Any]
) -> tuple[Path, str]:
    """A store whose live model the crafted-model test replaces (module-scoped with its server)."""
    return with_live(tmp_path_factory.mktemp("models"), shared_models("lr"))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, live_lr: tuple[Path, str]) -> Iterator[ApiProcess]:
    models, _ = live_lr
    tmp = tmp_path_factory.mktemp("api")
    running = ApiProcess(tmp, models_url=models, data_url=tmp / "data", api_poll_seconds=0.2)
    yield running
    running.stop()


def _promote_and_wait(api: ApiProcess, models: Path, model: Any, minutes: int) -> str:
    """Stage and promote ``model``; wait until the API has tried to load it."""
    registry = Registry(LocalStore(models))
    version = stage_model(registry, model, now=BASE_TIME + timedelta(minutes=minutes)).version
    registry.promote(version, reason="a crafted file")
    deadline = time.monotonic() + 30
    while (httpx.get(f"{api.url}/model", timeout=5).json()["last_reload"] or {}).get("version") != version:
        assert time.monotonic() < deadline, api.log()[-2000:]
        time.sleep(0.1)
    return version


def test_a_crafted_tree_is_refused_and_the_live_model_keeps_serving(
    api: ApiProcess, live_lr: tuple[Path, str], shared_models: Callable[[str], Any]
) -> None:
    """A boosting whose first split points past its nodes: scikit-learn's routine would read outside
    the array (the process died of SIGSEGV on the first prediction). It is refused at load, with the
    reason, and the model that was live answers."""
    models, good = live_lr
    crafted = copy.deepcopy(shared_models("hgb"))
    nodes = crafted[-1]._predictors[0][0].nodes
    nodes["left"][int(np.flatnonzero(nodes["is_leaf"] == 0)[0])] = 4_000_000_000
    version = _promote_and_wait(api, models, crafted, minutes=1)

    answer = None
    with contextlib.suppress(httpx.TransportError):
        answer = httpx.post(f"{api.url}/predict", json=FLIGHT, timeout=30)
    assert api.process.poll() is None, f"the API died ({api.process.returncode}): {api.log()[-1500:]}"
    assert answer is not None
    assert answer.status_code == 200
    assert answer.json()["model_version"] == good
    reload = httpx.get(f"{api.url}/model", timeout=5).json()["last_reload"]
    assert reload["result"] == "failed"
    assert reload["version"] == version
    assert "left child 4000000000 is out of range" in reload["error"]
    assert httpx.get(f"{api.url}/ready", timeout=5).status_code == 200


def test_sigterm_with_a_slow_body_pending_stops_in_time_and_writes_every_answer(
    tmp_path: Path, shared_models: Callable[[str], Any]
) -> None:
    """SIGTERM while a client is still sending a body: the API stopped waiting for it only when
    killed, and its last answer-log flush was lost. Now it gives running requests
    FLIGHTDELAY_API_SHUTDOWN_TIMEOUT_SECONDS, then flushes the answer log and ends."""
    models, _ = with_live(tmp_path / "models", shared_models("lr"))
    data = tmp_path / "data"
    api = ApiProcess(
        tmp_path, models_url=models, data_url=data, api_log_flush_seconds=600, api_shutdown_timeout_seconds=1
    )
    try:
        flights = [{**FLIGHT, "scheduled_departure": f"2013-12-02T{h:02d}:15:00"} for h in range(6, 22)]
        assert httpx.post(f"{api.url}/predict", json={"flights": flights}, timeout=30).status_code == 200
        slow = socket.create_connection(("127.0.0.1", api.port))
        slow.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"carrier": '
        )
        time.sleep(0.3)  # the request is running, waiting for the rest of its body
        started = time.monotonic()
        code = api.stop(timeout=20)
        stopped_after = time.monotonic() - started
        slow.close()
    finally:
        api.stop()
    # Ended by itself (uvicorn re-raises the SIGTERM it handled), not killed after the wait.
    assert code in (0, -signal.SIGTERM), api.log()[-2000:]
    assert "Application shutdown complete" in api.log()
    assert stopped_after < 8
    logged = answers.read(LocalStore(data), date(2013, 12, 2))
    assert len(logged) == len(flights)
