"""Dependencies of the routes, as Annotated aliases; and ``serving``, which /predict reads directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from flightdelay.config import Settings
from flightdelay.errors import NoLiveModel
from services.api.batcher import Batcher
from services.api.live import LiveModel, Loaded
from services.api.metrics import ApiMetrics


async def _live(request: Request) -> LiveModel:
    live: LiveModel = request.app.state.live
    return live


async def _loaded(request: Request) -> Loaded:
    loaded: Loaded | None = request.app.state.live.current
    if loaded is None:
        raise NoLiveModel  # the app answers 503 with its sentence
    return loaded


async def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


LiveDep = Annotated[LiveModel, Depends(_live)]
LiveModelDep = Annotated[Loaded, Depends(_loaded)]
MetricsDep = Annotated[ApiMetrics, Depends(_metrics)]


@dataclass(frozen=True)
class Serving:
    """What /predict needs, as one object on ``app.state``. The route reads it directly: FastAPI's
    resolution of four dependencies cost ~50 µs a request, a sixth of its time (bench/api.py)."""

    live: LiveModel
    batcher: Batcher
    settings: Settings
    metrics: ApiMetrics


def serving(request: Request) -> Serving:
    """The serving state; NoLiveModel (503) while no model is loaded."""
    state: Serving = request.app.state.serving
    if state.live.current is None:
        raise NoLiveModel
    return state
