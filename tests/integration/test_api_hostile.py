"""Hostile and careless requests against the API under a real uvicorn: each gets a clear 4xx, fast,
and the service keeps serving."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.routing import Match

from flightdelay import answers
from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.routes import predict
from services.api.server import RunningServer
from tests.factories import BASE_TIME, stage_model

FLIGHT = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-02T08:00:00"}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, shared_models: Callable[[str], Any]
) -> Iterator[RunningServer]:
    models = tmp_path_factory.mktemp("models")
    registry = Registry(LocalStore(models))
    model = shared_models("lr")
    registry.promote(stage_model(registry, model, now=BASE_TIME).version, reason="hostile requests")
    settings = get_settings(models_url=str(models), api_max_batch=5, api_max_body_bytes=100_000)
    with RunningServer(create_app(settings)) as running:
        yield running


def post_raw(server: RunningServer, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.url}/predict", content=body, headers={"Content-Type": "application/json"}, timeout=30
    )


def test_a_literal_nan_is_a_422_naming_the_field_not_a_500(server: RunningServer) -> None:
    response = post_raw(server, json.dumps({**FLIGHT, "carrier": float("nan")}).encode())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "carrier"
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_a_body_over_the_limit_is_refused_with_413_without_being_parsed(server: RunningServer) -> None:
    started = time.monotonic()
    response = post_raw(server, b'{"flights": [' + b" " * 5_000_000 + b"]}")
    assert response.status_code == 413
    assert "100000 bytes" in response.json()["detail"]
    assert time.monotonic() - started < 5
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_a_chunked_body_over_the_limit_is_refused_too(server: RunningServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"flights": ['
        for _ in range(50):
            yield b" " * 10_000
        yield b"]}"

    response = httpx.post(
        f"{server.url}/predict", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413


def test_a_422_echoes_only_a_short_excerpt_of_the_input(server: RunningServer) -> None:
    response = post_raw(server, json.dumps({**FLIGHT, "carrier": "X" * 50_000}).encode())
    assert response.status_code == 422
    assert len(response.content) < 2_000
    assert response.json()["detail"][0]["loc"][-1] == "carrier"


def test_the_batch_limit_is_checked_before_any_row_is_validated(server: RunningServer) -> None:
    response = post_raw(server, json.dumps({"flights": [{"nonsense": i} for i in range(6)]}).encode())
    assert response.status_code == 422
    (error,) = response.json()["detail"]  # one error for the batch, none per row
    assert "at most 5 flights" in error["msg"]
    assert error["loc"] == ["body", "batch"]


def test_a_body_that_is_not_json_is_a_400_as_documented(server: RunningServer) -> None:
    answer = httpx.post(
        f"{server.url}/predict",
        content=b'{"carrier": "B6", "origin": ',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("the body is not valid JSON")
    documented = httpx.get(f"{server.url}/openapi.json").json()["paths"]["/predict"]["post"]["responses"]
    assert "400" in documented


def test_the_documented_answer_is_a_valid_consistent_answer(server: RunningServer) -> None:
    from services.api.schemas import PredictionOut

    spec = httpx.get(f"{server.url}/openapi.json").json()
    example = spec["components"]["schemas"]["PredictionOut"]["examples"][0]
    answer = PredictionOut.model_validate(example)
    assert answer.delayed == (answer.risk != "low")  # flag and tier tell one story
    assert answer.factors is not None
    assert [abs(f.effect) for f in answer.factors] == sorted(
        (abs(f.effect) for f in answer.factors), reverse=True
    )


@pytest.mark.parametrize(
    ("body", "headers", "query", "loc", "reason"),
    [
        (b"", {"content-type": "application/json"}, "", ["body"], "Field required"),
        (json.dumps(FLIGHT).encode(), {"content-type": "text/plain"}, "", ["body"], "as JSON"),
        (json.dumps(FLIGHT).encode(), {}, "", ["body"], "as JSON"),
        (
            json.dumps(FLIGHT).encode(),
            {"content-type": "application/json"},
            "?explain=maybe",
            ["query", "explain"],
            "valid boolean",
        ),
    ],
    ids=["empty", "text", "no content type", "explain not a boolean"],
)
def test_what_predict_reads_itself_is_refused_with_a_422_naming_it(
    server: RunningServer, body: bytes, headers: dict[str, str], query: str, loc: list[str], reason: str
) -> None:
    """/predict reads its body and ?explain without FastAPI's machinery: what it refuses still gets a
    422 naming where and why, and the service keeps serving."""
    response = httpx.post(f"{server.url}/predict{query}", content=body, headers=headers, timeout=30)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == loc
    assert reason in error["msg"]
    assert httpx.post(f"{server.url}/predict?explain=1", json=FLIGHT, timeout=30).json()["factors"]


def test_the_body_and_explain_stay_documented(server: RunningServer) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    operation = spec["paths"]["/predict"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {ref["$ref"] for ref in body["oneOf"]} == {
        "#/components/schemas/FlightIn",
        "#/components/schemas/BatchIn",
    }
    assert spec["components"]["schemas"]["BatchIn"]["properties"]["flights"]["items"] == {
        "$ref": "#/components/schemas/FlightIn"
    }
    assert [p["name"] for p in operation["parameters"]] == ["explain"]
    assert "422" in operation["responses"]
    assert "HTTPValidationError" in spec["components"]["schemas"]


def test_predict_is_served_by_its_lean_route_first(tmp_path: Path) -> None:
    """/predict is answered by Starlette's route, ahead of the APIRoute that documents it (FastAPI's
    handling cost a third of a request): a reordering that lets FastAPI's take over fails here."""
    app = create_app(get_settings(models_url=str(tmp_path / "models"), data_url=str(tmp_path / "data")))
    scope = {"type": "http", "method": "POST", "path": "/predict", "root_path": ""}
    matched = [route for route in app.router.routes if route.matches(scope)[0] == Match.FULL]
    assert matched[0] is predict.SERVED
    assert "/predict" in app.openapi()["paths"]


def _nan_for_carrier(model: Any, carrier: str) -> Any:
    """The logistic regression with the weight of one carrier's one-hot column made NaN: it scores
    every flight but that carrier's (the smoke flights' carriers among them)."""
    import copy

    from flightdelay.serving import feature_matrix, scheduled

    crafted = copy.deepcopy(model)
    features, encode = crafted[0], crafted[1]

    def columns(code: str) -> set[int]:
        flights = scheduled([code], ["JFK"], ["BOS"], np.array(["2013-12-02T08:00"], dtype="datetime64[m]"))
        return set(encode.transform(feature_matrix(features, flights)).nonzero()[1].tolist())

    (own,) = columns(carrier) - columns("B6")
    crafted[-1].coef_[0, own] = np.nan
    return crafted


def test_a_model_answering_nan_is_never_served_as_a_probability(
    tmp_path: Path, shared_models: Callable[[str], Any]
) -> None:
    """A model that passes its smoke test but answers NaN for one carrier: that flight gets a 503
    saying so (not a 200 with probability null), the others are answered, and /ready says the live
    model cannot score until another is loaded."""
    registry = Registry(LocalStore(tmp_path / "models"))
    version = stage_model(registry, _nan_for_carrier(shared_models("lr"), "HA"), now=BASE_TIME).version
    registry.promote(version, reason="scores all but one carrier")
    settings = get_settings(models_url=str(tmp_path / "models"), data_url=str(tmp_path / "data"))
    with RunningServer(create_app(settings)) as api:
        assert httpx.get(f"{api.url}/ready").status_code == 200
        hawaiian = httpx.post(f"{api.url}/predict", json={**FLIGHT, "carrier": "HA"}, timeout=30)
        assert hawaiian.status_code == 503, hawaiian.text
        assert f"model {version} answered NaN" in hawaiian.json()["detail"]
        batch = httpx.post(f"{api.url}/predict", json={"flights": [FLIGHT, {**FLIGHT, "carrier": "HA"}]})
        assert batch.status_code == 503
        assert httpx.post(f"{api.url}/predict", json=FLIGHT, timeout=30).status_code == 200
        ready = httpx.get(f"{api.url}/ready")
        assert ready.status_code == 503
        assert "answered NaN for 2 flights" in ready.json()["detail"]
        assert "flightdelay_model_ready 0.0" in httpx.get(f"{api.url}/metrics").text
    logged = answers.read(LocalStore(tmp_path / "data"), date(2013, 12, 2))
    assert len(logged) == 1  # only the answer given
    assert logged["probability"].notna().all()


def test_a_model_refused_at_load_is_named_by_ready_and_predict(
    tmp_path: Path, shared_models: Callable[[str], Any]
) -> None:
    """The first model answers NaN for every flight: it is refused at load, and /ready and /predict
    say which model was refused and why, not only that none is live."""
    import copy

    registry = Registry(LocalStore(tmp_path / "models"))
    nan = copy.deepcopy(shared_models("lr"))
    nan[-1].intercept_[:] = np.nan
    version = stage_model(registry, nan, now=BASE_TIME).version
    registry.promote(version, reason="answers NaN")
    settings = get_settings(models_url=str(tmp_path / "models"), data_url=str(tmp_path / "data"))
    with RunningServer(create_app(settings)) as api:
        ready = httpx.get(f"{api.url}/ready")
        predicted = httpx.post(f"{api.url}/predict", json=FLIGHT, timeout=30)
    assert ready.status_code == predicted.status_code == 503
    for answer in (ready, predicted):
        assert f"{version} was refused" in answer.json()["detail"]
        assert "not probabilities" in answer.json()["detail"]


def test_an_oversized_body_from_the_projects_own_client_gets_the_413(server: RunningServer) -> None:
    """urllib (apiclient) sends the whole body before it reads an answer: a 413 sent while it is still
    sending, then a close, reached it as a connection reset. Now the API reads and discards a bounded
    part of the body, then answers and closes, so this client too gets the 413 and its reason."""
    from apiclient import ApiError, ApiUnreachable, Client

    started = time.monotonic()
    with pytest.raises(ApiError) as refused:
        Client(server.url, timeout=30).call("POST", "/predict", {"flights": [], "padding": "x" * 55_000_000})
    assert not isinstance(refused.value, ApiUnreachable), refused.value
    assert refused.value.status == 413
    assert "100000 bytes" in str(refused.value.detail)
    assert time.monotonic() - started < 10
    assert httpx.get(f"{server.url}/health").status_code == 200
