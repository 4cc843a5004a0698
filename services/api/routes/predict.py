from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, NoReturn

import numpy as np
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Discriminator, Tag, TypeAdapter, ValidationError
from pydantic_core import from_json, to_json
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Route
from starlette.types import Scope

from flightdelay import explain, rotation
from flightdelay.airports import timezones
from flightdelay.conditions import Aircraft, Known
from flightdelay.config import Settings
from flightdelay.serving import Flights, asked, feature_matrix
from services.api.batcher import Answer
from services.api.deps import serving
from services.api.metrics import ApiMetrics
from services.api.schemas import (
    NOT_READY_RESPONSE,
    BatchIn,
    BatchOut,
    ErrorOut,
    FlightIn,
    PredictionOut,
    Risk,
)

router = APIRouter(prefix="/predict", tags=["predict"])
log = logging.getLogger(__name__)


def _risk(p: float, threshold: float, high: float) -> Risk:
    """The tier, from the model's own threshold up: "low" exactly when the flag says on time."""
    if p < threshold:
        return "low"
    return "high" if p >= max(high, threshold) else "medium"


# Answers are plain dicts in the documented shape (PredictionOut, BatchOut), encoded by pydantic-core
# in one call: building and dumping 10,000 models took 100 ms of a batch's 260 (the schemathesis
# test checks every answer against the documented schema).
_NOTHING_KNOWN: dict[str, Any] = {
    "known_at": None,
    "hours_ahead": None,
    "weather_age_minutes": None,
    "departures": False,
}


def _conditions(known: Known, known_at: datetime | None) -> list[dict[str, Any]]:
    """Each flight's ConditionsUsed, in its documented shape."""
    hours, age = known.values["hours_ahead"], known.values["weather_age_hours"]
    departures = known.values["recent_departures"]
    out = [_NOTHING_KNOWN] * len(hours)  # NaN hours: nothing was known for the flight
    for i, h in enumerate(hours.tolist()):
        if h == h:
            out[i] = {
                "known_at": known_at,
                "hours_ahead": round(h, 2),
                "weather_age_minutes": None if np.isnan(age[i]) else round(float(age[i]) * 60, 1),
                "departures": not np.isnan(departures[i]),
            }
    return out


def _aircraft(aircraft: Aircraft | None, n: int) -> list[dict[str, Any]]:
    """Each flight's AircraftUsed, in its documented shape: the aircraft, its previous flight in
    words and what follows from it; an unknown aircraft says so."""
    if aircraft is None:
        aircraft = Aircraft.unknown(n)
    zones = timezones()
    known, legs = aircraft.known, aircraft.legs
    out = []
    for i in range(n):
        name = aircraft.tail_number[i]
        prev = int(known.previous[i])
        out.append(
            {
                "tail_number": name,
                "found_by": aircraft.source[i],
                "previous_flight": None
                if prev < 0
                else {
                    "flight": f"{legs.carrier[prev]} {legs.flight_number[prev] or ''}".strip(),
                    "origin": legs.origin[prev],
                    "dest": legs.dest[prev],
                    "left": bool(known.values["prev_leg_left"][i] == 1.0),
                    "delay_minutes": round(float(known.values["prev_leg_delay"][i]), 1),
                    "turnaround_minutes": round(float(known.values["turnaround_minutes"][i]), 1),
                },
                "summary": rotation.describe(legs, known, i, name, zones),
                "recommendation": rotation.recommend(known, i),
            }
        )
    return out


Explained = list[tuple[list[dict[str, Any]], str | None]]


def _explained(answer: Answer, flights: Flights) -> Explained | None:
    """Each flight's top factors (Factor's shape) and advice, from the model that answered (None if
    it cannot say)."""
    loaded = answer.loaded
    try:
        aircraft = answer.aircraft.known if answer.aircraft is not None else None
        rows = feature_matrix(loaded.features, flights, answer.known, aircraft)
        result = explain.split(loaded.estimator, rows)
    except Exception as exc:  # an answer without its factors, never a failed answer
        log.warning(
            "no explanation", extra={"error": f"{type(exc).__name__}: {exc}", "model": loaded.version}
        )
        return None
    return [explain.factors(result, i, values=rows[i]) for i in range(len(flights))]


def _predictions(
    answer: Answer,
    flights: Flights,
    settings: Settings,
    metrics: ApiMetrics,
    explained: Explained | None = None,
) -> list[dict[str, Any]]:
    loaded, probabilities = answer.loaded, answer.probabilities
    threshold, version, high = loaded.manifest.threshold, loaded.version, settings.risk_high
    conditions = _conditions(answer.known, answer.known_at)
    aircraft = _aircraft(answer.aircraft, len(flights))
    unseen = loaded.features.unseen(flights.carrier, flights.origin, flights.dest)
    out = [
        {
            "probability": round(p, 4),
            "delayed": p >= threshold,
            "risk": _risk(p, threshold, high),
            "model_version": version,
            "conditions": conditions[i],
            "aircraft": aircraft[i],
            "unseen": unseen[i],
            "factors": explained[i][0] if explained else None,
            "advice": explained[i][1] if explained else None,
        }
        for i, p in enumerate(probabilities.tolist())
    ]
    late = int((probabilities >= threshold).sum())
    metrics.predicted_delayed.inc(late)
    metrics.predicted_on_time.inc(len(out) - late)
    return out


# The fields the rules across fields speak of (serving.asked's "departure" and "arrival").
_FIELDS = {"departure": "scheduled_departure", "arrival": "scheduled_arrival"}


def _checked(rows: list[FlightIn], where: Callable[[int], tuple[str | int, ...]]) -> Flights:
    """The flights of a request, checked together: a 422 names every flight (``where`` it is in
    the body) and field that breaks a rule across fields, as pydantic would."""
    flights, problems = asked(
        [row["carrier"] for row in rows],
        [row["origin"] for row in rows],
        [row["dest"] for row in rows],
        [row["scheduled_departure"] for row in rows],
        [row.get("scheduled_arrival") for row in rows],
    )
    if not problems:
        # Who flies it, where the caller said: the aircraft is found from these (rotation.py).
        flights = replace(
            flights,
            flight_number=np.array([row.get("flight_number") for row in rows], dtype=object),
            tail_number=np.array([row.get("tail_number") for row in rows], dtype=object),
        )
    if problems:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": (*where(i), _FIELDS[field]) if field else where(i),
                    "msg": f"Value error, {message}",
                    "input": rows[i].get(_FIELDS[field]) if field else rows[i],
                }
                for i, field, message in problems
            ]
        )
    return flights


def _shape(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "flights" in value else "flight"


# One flight, or {"flights": [...]}: the body's shape picks the model, so a 422 speaks of one shape only.
PredictIn = Annotated[
    Annotated[FlightIn, Tag("flight")] | Annotated[BatchIn, Tag("batch")], Discriminator(_shape)
]


# /predict reads its body and ?explain itself: FastAPI's per-request machinery for them (dependency
# solving, a second parse of the query) cost ~40 µs of a ~230 µs request (bench/api.py). The body
# gets the same validation and the same errors, and both stay documented (OPENAPI_COMPONENTS).
_BODY: TypeAdapter[FlightIn | BatchIn] = TypeAdapter(PredictIn)
_EXPLAIN: TypeAdapter[bool] = TypeAdapter(bool)
_BODY_SCHEMA = _BODY.json_schema(ref_template="#/components/schemas/{model}")
OPENAPI_COMPONENTS: dict[str, Any] = _BODY_SCHEMA.pop("$defs")
EXPLAIN_PARAMETER: dict[str, Any] = {
    "name": "explain",
    "in": "query",
    "required": False,
    "schema": {"type": "boolean", "default": False, "title": "Explain"},
    "description": "also say which inputs moved each probability most, and advise (costs "
    "milliseconds a flight: off by default)",
}


def _invalid(error_type: str, loc: tuple[str | int, ...], msg: str, value: Any, **ctx: Any) -> NoReturn:
    raise RequestValidationError([{"type": error_type, "loc": loc, "msg": msg, "input": value, "ctx": ctx}])


async def _body(request: Request) -> FlightIn | BatchIn:
    """The body, validated as FastAPI validates a declared body: the same rules, the same errors
    (a body that is not JSON is its "json_invalid", which the app answers with a 400)."""
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client left, or LimitRequests cut an oversized body (its 413)
        raise HTTPException(400, "the body was cut off before its end") from None
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not raw:
        _invalid("missing", ("body",), "Field required", None)
    if content_type != "application/json" and not content_type.endswith("+json"):
        _invalid(
            "content_type", ("body",), "send the body as JSON (Content-Type: application/json)", content_type
        )
    try:
        data = from_json(raw)
    except ValueError as exc:
        _invalid("json_invalid", ("body", 0), "JSON decode error", {}, error=str(exc))
    try:
        return _BODY.validate_python(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None


def _explain(request: Request) -> bool:
    if not request.scope["query_string"]:
        return False
    value = request.query_params.get("explain")
    try:
        return value is not None and _EXPLAIN.validate_python(value)
    except ValidationError:
        _invalid("bool_parsing", ("query", "explain"), "Input should be a valid boolean", value)


@router.post(
    "",
    # The answer is built from the models below, so FastAPI need not validate it a second time
    # (that pass cost as much as the prediction for a 10,000-flight batch); the schema stays documented.
    response_model=None,
    responses={
        200: {
            "model": PredictionOut | BatchOut,
            "description": "One prediction, or one per flight of a batch",
        },
        400: {"model": ErrorOut, "description": "The body is not valid JSON"},
        413: {"model": ErrorOut, "description": "The body is larger than FLIGHTDELAY_API_MAX_BODY_BYTES"},
        422: {
            "description": "Validation Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
        },
        **NOT_READY_RESPONSE,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {**_BODY_SCHEMA, "title": "Body"}}},
        },
        "parameters": [EXPLAIN_PARAMETER],
    },
)
async def predict(request: Request) -> Response:
    """Probability that one flight (or each of a batch) arrives 15 or more minutes late."""
    body = await _body(request)
    explain_answer = _explain(request)
    state = serving(request)
    if isinstance(body, BatchIn):  # the batch limit: BatchIn's validator
        flights = _checked(body.flights, lambda i: ("body", "batch", "flights", i))
    else:
        flights = _checked([body], lambda i: ("body", "flight"))
    answer = await state.batcher.predict(flights)
    explained = await asyncio.to_thread(_explained, answer, flights) if explain_answer else None
    predictions = _predictions(answer, flights, state.settings, state.metrics, explained)
    out = (
        {"model_version": answer.loaded.version, "predictions": predictions}
        if isinstance(body, BatchIn)
        else predictions[0]
    )
    return Response(to_json(out, inf_nan_mode="null"), media_type="application/json")


# /predict is served by Starlette's own route, ahead of FastAPI's (create_app puts it first): FastAPI's
# handling of each request to an included APIRoute (its route context, dependency solving, exit
# stacks) cost ~85 µs of a ~230 µs request, in-process. The APIRoute above still documents it;
# the app's exception handlers answer for both.
class _Route(Route):
    """Starlette's route, naming itself in the scope as Starlette's router does (FastAPI's router
    does so for its own routes only): the request metrics are labelled by it."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        return match, {**child_scope, "route": self}


SERVED = _Route("/predict", predict, methods=["POST"])
