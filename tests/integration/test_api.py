"""The prediction API under a real uvicorn on 127.0.0.1: predictions, validation, lifecycle, reloads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from flightdelay import datasets, explain
from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.server import RunningServer
from tests.factories import BASE_TIME, stage_model

POLL = 0.2


@pytest.fixture(scope="module")
def models(shared_models: Callable[[str], Any]) -> dict[str, Any]:
    return {"hgb": shared_models("hgb"), "lr": shared_models("lr")}


@pytest.fixture(scope="module")
def december() -> pd.DataFrame:
    return datasets.load_flights(date(2013, 12, 2), date(2013, 12, 2))


def start(models_dir: Path, **overrides: Any) -> RunningServer:
    settings = get_settings(models_url=str(models_dir), api_poll_seconds=POLL, **overrides)
    return RunningServer(create_app(settings))


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(LocalStore(tmp_path))


@pytest.fixture
def live_api(
    registry: Registry, models: dict[str, Any], tmp_path: Path
) -> Iterator[tuple[RunningServer, str]]:
    m = stage_model(registry, models["hgb"], now=BASE_TIME)
    registry.promote(m.version, reason="test")
    with start(tmp_path, api_max_batch=200) as server:
        yield server, m.version


def as_request(row: Any) -> dict[str, Any]:
    return {
        "carrier": row.carrier,
        "flight_number": row.flight_number,
        "origin": row.origin,
        "dest": row.dest,
        "scheduled_departure": row.sched_dep_local.isoformat(),
        "scheduled_arrival": row.sched_arr_local.isoformat(),
    }


def test_health_and_ready(live_api: tuple[RunningServer, str]) -> None:
    server, version = live_api
    assert httpx.get(f"{server.url}/health").json() == {
        "status": "ok",
        "ready": True,
        "model_version": version,
    }
    ready = httpx.get(f"{server.url}/ready")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == version


def test_predictions_for_real_december_flights_match_the_model(
    live_api: tuple[RunningServer, str], models: dict[str, Any], december: pd.DataFrame
) -> None:
    server, version = live_api
    sample = december.iloc[::10].head(80)
    response = httpx.post(
        f"{server.url}/predict", json={"flights": [as_request(r) for r in sample.itertuples()]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == version
    served = np.array([p["probability"] for p in body["predictions"]])
    expected = models["hgb"].predict_proba(sample)[:, 1]
    np.testing.assert_allclose(served, expected, atol=6e-5)  # responses round to 4 decimals
    assert {p["risk"] for p in body["predictions"]} <= {"low", "medium", "high"}


def test_one_flight(live_api: tuple[RunningServer, str], december: pd.DataFrame) -> None:
    server, version = live_api
    response = httpx.post(f"{server.url}/predict", json=as_request(next(december.itertuples())))
    assert response.status_code == 200
    body = response.json()
    assert 0 < body["probability"] < 1
    assert isinstance(body["delayed"], bool)
    assert body["model_version"] == version


def test_later_departures_are_riskier_as_the_data_says(live_api: tuple[RunningServer, str]) -> None:
    server, _ = live_api
    flights = [
        {"carrier": "DL", "origin": "LGA", "dest": "ATL", "scheduled_departure": f"2013-12-03T{hour}:00:00"}
        for hour in ("06", "20")
    ]
    early, late = httpx.post(f"{server.url}/predict", json={"flights": flights}).json()["predictions"]
    assert late["probability"] > early["probability"]


def test_unknown_airports_are_predicted_not_refused(live_api: tuple[RunningServer, str]) -> None:
    server, _ = live_api
    flight = {"carrier": "ZZ", "origin": "QQQ", "dest": "BOS", "scheduled_departure": "2013-12-03T09:00:00"}
    answer = httpx.post(f"{server.url}/predict", json=flight)
    assert answer.status_code == 200
    # ... and the answer says what it never learned from, so nobody takes it for a confident one.
    assert answer.json()["unseen"] == ["carrier ZZ", "origin QQQ", "route QQQ-BOS"]
    known = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-03T09:00:00"}
    assert httpx.post(f"{server.url}/predict", json=known).json()["unseen"] == []


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"carrier": "B6X"}, "carrier", "should match pattern"),
        ({"origin": "JF1"}, "origin", "should match pattern"),
        ({"dest": "JFK"}, "flight", "dest must differ from origin"),
        ({"scheduled_departure": "2013-12-02T25:00:00"}, "scheduled_departure", "valid datetime"),
        ({"scheduled_departure": "2013-12-02T10:00:00+02:00"}, "scheduled_departure", "without a UTC offset"),
        ({"scheduled_arrival": "2013-12-02T05:00:00"}, "flight", "must be after scheduled_departure"),
        ({"surprise": 1}, "surprise", "Extra inputs are not permitted"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_reason(
    live_api: tuple[RunningServer, str], change: dict[str, Any], field: str, reason: str
) -> None:
    server, _ = live_api
    flight = {
        "carrier": "B6",
        "origin": "JFK",
        "dest": "BOS",
        "scheduled_departure": "2013-12-02T08:00:00",
        "scheduled_arrival": "2013-12-02T09:10:00",
        **change,
    }
    response = httpx.post(f"{server.url}/predict", json=flight)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field and reason in e["msg"] for e in errors), errors


def test_a_batch_over_the_maximum_gets_422(live_api: tuple[RunningServer, str]) -> None:
    server, _ = live_api
    flight = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-02T08:00:00"}
    response = httpx.post(f"{server.url}/predict", json={"flights": [flight] * 201})
    assert response.status_code == 422
    assert "at most 200 flights" in response.text


def test_model_endpoint_reports_the_manifest(live_api: tuple[RunningServer, str]) -> None:
    server, version = live_api
    body = httpx.get(f"{server.url}/model").json()
    assert body["version"] == version
    assert body["trained_on"]["start"] == "2013-01-01"
    assert body["promoted_at"] is not None
    assert body["last_reload"]["result"] == "loaded"


def test_metrics_expose_requests_predictions_and_the_model(live_api: tuple[RunningServer, str]) -> None:
    server, version = live_api
    flight = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-02T08:00:00"}
    httpx.post(f"{server.url}/predict", json=flight)
    text = httpx.get(f"{server.url}/metrics").text
    assert 'flightdelay_http_requests_total{route="/predict",status="200"} 1.0' in text
    assert "flightdelay_http_request_seconds_bucket" in text
    assert "flightdelay_predictions_total" in text
    assert f'flightdelay_model_info{{version="{version}"}} 1.0' in text
    assert "flightdelay_model_ready 1.0" in text
    assert 'flightdelay_model_reloads_total{result="loaded"} 1.0' in text


def test_with_nothing_live_it_starts_and_answers_503_until_a_promotion(
    registry: Registry, models: dict[str, Any], tmp_path: Path
) -> None:
    flight = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-02T08:00:00"}
    with start(tmp_path) as server:
        health = httpx.get(f"{server.url}/health")  # the load balancer's check: a first deployment is healthy
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "ready": False, "model_version": None}
        assert "flightdelay_model_ready 0.0" in httpx.get(f"{server.url}/metrics").text
        ready = httpx.get(f"{server.url}/ready")
        assert ready.status_code == 503
        assert "no model is live yet" in ready.json()["detail"]
        assert httpx.post(f"{server.url}/predict", json=flight).status_code == 503
        assert httpx.get(f"{server.url}/model").json()["version"] is None
        m = stage_model(registry, models["lr"], now=BASE_TIME)
        registry.promote(m.version, reason="first")
        deadline = time.monotonic() + 10 * POLL + 5
        while httpx.get(f"{server.url}/ready").status_code != 200:
            assert time.monotonic() < deadline, "the promoted model was not picked up"
            time.sleep(POLL / 2)
        assert httpx.post(f"{server.url}/predict", json=flight).json()["model_version"] == m.version


def test_a_promotion_under_continuous_traffic_switches_versions_without_errors(
    registry: Registry, models: dict[str, Any], live_api: tuple[RunningServer, str]
) -> None:
    server, old = live_api
    flight = {"carrier": "UA", "origin": "EWR", "dest": "ORD", "scheduled_departure": "2013-12-02T17:00:00"}
    seen: list[tuple[float, int, str | None]] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client() as http:
            while not stop.is_set():
                r = http.post(f"{server.url}/predict", json=flight)
                seen.append((time.monotonic(), r.status_code, r.json().get("model_version")))

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    new = stage_model(registry, models["lr"], now=BASE_TIME + timedelta(minutes=5))
    registry.promote(new.version, reason="newer")
    promoted_at = time.monotonic()
    time.sleep(10 * POLL + 1.0)
    stop.set()
    for t in threads:
        t.join()
    assert all(status == 200 for _, status, _ in seen)
    versions = [v for _, _, v in seen]
    assert versions[0] == old
    assert versions[-1] == new.version
    first_new = min(at for at, _, v in seen if v == new.version)
    assert first_new - promoted_at < 10 * POLL + 1.0  # well within a few poll intervals


def test_a_corrupt_artifact_keeps_the_old_model_serving(
    registry: Registry, models: dict[str, Any], live_api: tuple[RunningServer, str]
) -> None:
    server, old = live_api
    bad = stage_model(registry, models["lr"], now=BASE_TIME + timedelta(minutes=7))
    registry.promote(bad.version, reason="about to be corrupted")  # copies to prod, verified
    registry.store.put(f"prod/{bad.version}/model.skops", b"corrupt bytes")
    # A poll may already have loaded the good copy in between: point latest.txt away and back.
    registry.rollback(to=old)
    time.sleep(3 * POLL)
    registry.store.put("latest.txt", f"prod/{bad.version}/model.skops".encode())
    deadline = time.monotonic() + 10 * POLL + 5
    while True:
        model = httpx.get(f"{server.url}/model").json()
        if model["last_reload"]["version"] == bad.version and model["last_reload"]["result"] == "failed":
            break
        assert time.monotonic() < deadline, model
        time.sleep(POLL / 2)
    assert model["version"] == old
    assert "sha256" in model["last_reload"]["error"] or "size" in model["last_reload"]["error"]
    flight = {"carrier": "UA", "origin": "EWR", "dest": "ORD", "scheduled_departure": "2013-12-02T17:00:00"}
    assert httpx.post(f"{server.url}/predict", json=flight).json()["model_version"] == old
    assert 'flightdelay_model_reloads_total{result="failed"}' in httpx.get(f"{server.url}/metrics").text


def test_the_page_and_the_docs_are_served(live_api: tuple[RunningServer, str]) -> None:
    server, _ = live_api
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert "Will my flight arrive late?" in page.text
    openapi = httpx.get(f"{server.url}/openapi.json").json()
    assert "/predict" in openapi["paths"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_the_flag_and_the_risk_tier_always_tell_one_story(
    live_api: tuple[RunningServer, str], december: pd.DataFrame
) -> None:
    server, _ = live_api
    sample = december.iloc[::3].head(200)
    body = httpx.post(
        f"{server.url}/predict", json={"flights": [as_request(r) for r in sample.itertuples()]}
    ).json()
    answers = body["predictions"]
    assert {a["risk"] for a in answers} >= {"low", "medium"}  # both sides of the threshold are seen
    for a in answers:
        assert (a["risk"] == "low") == (not a["delayed"]), a


def test_an_answer_explains_itself_when_asked(
    live_api: tuple[RunningServer, str], december: pd.DataFrame
) -> None:
    server, _ = live_api
    late_evening = december[december["sched_dep_local"].dt.hour >= 19].iloc[0]
    plain = httpx.post(f"{server.url}/predict", json=as_request(late_evening)).json()
    assert plain["factors"] is None  # off by default: it costs milliseconds a flight
    answer = httpx.post(f"{server.url}/predict?explain=true", json=as_request(late_evening)).json()
    assert answer["probability"] == plain["probability"]
    factors = answer["factors"]
    assert len(factors) == 3
    assert [abs(f["effect"]) for f in factors] == sorted((abs(f["effect"]) for f in factors), reverse=True)
    assert {f["input"] for f in factors} <= set(explain.REASON_NAMES)
    assert all(f["words"].endswith(("raises the chance", "lowers the chance")) for f in factors)
    assert (answer["advice"] is not None) == (factors[0]["effect"] > 0)
    batch = httpx.post(
        f"{server.url}/predict?explain=true",
        json={"flights": [as_request(r) for r in december.iloc[:20].itertuples()]},
    ).json()
    assert all(len(p["factors"]) == 3 for p in batch["predictions"])
