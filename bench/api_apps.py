"""The reference servers of the API benchmark, each a separate uvicorn process.

- ceiling: the same stack (FastAPI, the same request model and validation) returning a constant;
- naive: the original design's style: a pandas DataFrame built per request, fed to a pickled
  random forest pipeline's ``predict_proba``, one request at a time; with the forest's n_jobs as
  trained (-1: every core) or as BENCH_N_JOBS sets it (1, which scikit-learn's default None means);
- fair: what a competent engineer would deploy for the model the project serves: the same trained
  pipeline (BENCH_MODEL_PATH: the blend, training's winner) loaded with joblib, its input built as
  the naive peer builds it (``schema.from_schedule`` on a DataFrame, then the pipeline's own
  FlightFeatures), ``predict_proba`` on one thread (threadpoolctl here; OMP_NUM_THREADS=1 from the
  bench, since an OpenMP limit set in one thread does not reach the others), a batch as one
  DataFrame and one call. Its route is ``async def`` (the model runs on the event loop, one request
  after another) or, with BENCH_THREADPOOL=1, a plain ``def`` (FastAPI's thread pool, requests
  sharing the GIL): both are what people deploy, and the bench keeps the better.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel
from threadpoolctl import threadpool_limits

from flightdelay import schema
from services.api.schemas import AircraftUsed, BatchIn, ConditionsUsed, FlightIn, PredictionOut

NO_CONDITIONS = ConditionsUsed(known_at=None, hours_ahead=None, weather_age_minutes=None, departures=False)
NO_AIRCRAFT = AircraftUsed(
    tail_number=None, found_by=None, previous_flight=None, summary="unknown", recommendation=None
)


def ceiling() -> FastAPI:
    app = FastAPI()

    @app.post("/predict")
    async def predict(flight: FlightIn) -> PredictionOut:
        return PredictionOut(
            probability=0.25,
            delayed=False,
            risk="low",
            model_version="constant",
            conditions=NO_CONDITIONS,
            aircraft=NO_AIRCRAFT,
        )

    return app


def frame_of(flights: Sequence[FlightIn]) -> pd.DataFrame:
    """The flights as the project's schema helpers take them (the original design's way)."""
    return pd.DataFrame(
        [
            {
                "carrier": flight["carrier"],
                "origin": flight["origin"],
                "dest": flight["dest"],
                "sched_dep_local": flight["scheduled_departure"],
                "sched_arr_local": flight.get("scheduled_arrival"),
            }
            for flight in flights
        ]
    )


def naive() -> FastAPI:
    app = FastAPI()
    model = joblib.load(os.environ["BENCH_MODEL_PATH"])
    if "BENCH_N_JOBS" in os.environ:
        model.set_params(model__n_jobs=int(os.environ["BENCH_N_JOBS"]))

    @app.post("/predict")
    def predict(flight: FlightIn) -> PredictionOut:
        p = float(model.predict_proba(schema.from_schedule(frame_of([flight])))[0, 1])
        return PredictionOut(
            probability=p,
            delayed=p >= 0.3,
            risk="low",
            model_version="naive",
            conditions=NO_CONDITIONS,
            aircraft=NO_AIRCRAFT,
        )

    return app


class FairBatchOut(BaseModel):
    predictions: list[PredictionOut]


def fair() -> FastAPI:
    app = FastAPI()
    model = joblib.load(os.environ["BENCH_MODEL_PATH"])
    for name in model.get_params():  # any step that spawns its own workers (the blend's have none)
        if name.endswith("n_jobs"):
            model.set_params(**{name: 1})
    threadpool_limits(limits=1)

    def answers(flights: Sequence[FlightIn]) -> list[PredictionOut]:
        late = model.predict_proba(schema.from_schedule(frame_of(flights)))[:, 1]
        return [
            PredictionOut(
                probability=p,
                delayed=p >= 0.3,
                risk="medium" if p >= 0.3 else "low",
                model_version="fair",
                conditions=NO_CONDITIONS,
                aircraft=NO_AIRCRAFT,
            )
            for p in late.tolist()
        ]

    def answer(body: BatchIn | FlightIn) -> PredictionOut | FairBatchOut:
        if isinstance(body, BatchIn):
            return FairBatchOut(predictions=answers(body.flights))
        return answers([body])[0]

    if os.environ.get("BENCH_THREADPOOL") == "1":

        @app.post("/predict")
        def in_pool(body: BatchIn | FlightIn) -> PredictionOut | FairBatchOut:
            return answer(body)

    else:

        @app.post("/predict")
        async def on_loop(body: BatchIn | FlightIn) -> PredictionOut | FairBatchOut:
            return answer(body)

    return app
