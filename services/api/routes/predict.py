from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Response
from pydantic import Discriminator, Tag

from flightdelay.config import Settings
from services.api.deps import BatcherDep, LiveModelDep, MetricsDep, SettingsDep
from services.api.live import Loaded
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


def _risk(p: float, settings: Settings) -> Risk:
    if p >= settings.risk_high:
        return "high"
    return "medium" if p >= settings.risk_medium else "low"


def _predictions(
    probabilities: np.ndarray, loaded: Loaded, settings: Settings, metrics: MetricsDep
) -> list[PredictionOut]:
    threshold = loaded.manifest.threshold
    out = [
        PredictionOut(
            probability=round(float(p), 4),
            delayed=bool(p >= threshold),
            risk=_risk(float(p), settings),
            model_version=loaded.version,
        )
        for p in probabilities
    ]
    late = int((probabilities >= threshold).sum())
    metrics.predictions.labels(predicted="delayed").inc(late)
    metrics.predictions.labels(predicted="on_time").inc(len(out) - late)
    return out


def _shape(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "flights" in value else "flight"


# One flight, or {"flights": [...]}: the body's shape picks the model, so a 422 speaks of one shape only.
PredictIn = Annotated[
    Annotated[FlightIn, Tag("flight")] | Annotated[BatchIn, Tag("batch")], Discriminator(_shape)
]


@router.post(
    "",
    # The body is built from the models below, so FastAPI need not validate it a second time
    # (that pass cost as much as the prediction for a 10,000-flight batch); the schema stays documented.
    response_model=None,
    responses={
        200: {
            "model": PredictionOut | BatchOut,
            "description": "One prediction, or one per flight of a batch",
        },
        400: {"model": ErrorOut, "description": "The body is not valid JSON"},
        413: {"model": ErrorOut, "description": "The body is larger than FLIGHTDELAY_API_MAX_BODY_BYTES"},
        **NOT_READY_RESPONSE,
    },
)
async def predict(
    body: PredictIn, _: LiveModelDep, batcher: BatcherDep, settings: SettingsDep, metrics: MetricsDep
) -> Response:
    """Probability that one flight (or each of a batch) arrives 15 or more minutes late."""
    flights = body.flights if isinstance(body, BatchIn) else [body]  # the batch limit: BatchIn's validator
    probabilities, loaded = await batcher.predict([f.flight for f in flights])
    predictions = _predictions(probabilities, loaded, settings, metrics)
    out = (
        BatchOut(model_version=loaded.version, predictions=predictions)
        if isinstance(body, BatchIn)
        else predictions[0]
    )
    return Response(out.model_dump_json(), media_type="application/json")
