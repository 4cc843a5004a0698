"""The two reference servers of the API benchmark, each a separate uvicorn process.

- ceiling: the same stack (FastAPI, the same request model and validation) returning a constant;
- naive: the original design's style: a pandas DataFrame built per request, fed to a pickled
  random forest pipeline's ``predict_proba``, one request at a time; with the forest's n_jobs as
  trained (-1: every core) or as BENCH_N_JOBS sets it (1, which scikit-learn's default None means).
"""

from __future__ import annotations

import os

import joblib
import pandas as pd
from fastapi import FastAPI

from flightdelay import schema
from services.api.schemas import ConditionsUsed, FlightIn, PredictionOut

NO_CONDITIONS = ConditionsUsed(known_at=None, hours_ahead=None, weather_age_minutes=None, departures=False)


def ceiling() -> FastAPI:
    app = FastAPI()

    @app.post("/predict")
    async def predict(flight: FlightIn) -> PredictionOut:
        return PredictionOut(
            probability=0.25, delayed=False, risk="low", model_version="constant", conditions=NO_CONDITIONS
        )

    return app


def naive() -> FastAPI:
    app = FastAPI()
    model = joblib.load(os.environ["BENCH_MODEL_PATH"])
    if "BENCH_N_JOBS" in os.environ:
        model.set_params(model__n_jobs=int(os.environ["BENCH_N_JOBS"]))

    @app.post("/predict")
    def predict(flight: FlightIn) -> PredictionOut:
        frame = pd.DataFrame(
            [
                {
                    "carrier": flight["carrier"],
                    "origin": flight["origin"],
                    "dest": flight["dest"],
                    "sched_dep_local": flight["scheduled_departure"],
                    "sched_arr_local": flight.get("scheduled_arrival"),
                }
            ]
        )
        p = float(model.predict_proba(schema.from_schedule(frame))[0, 1])
        return PredictionOut(
            probability=p, delayed=p >= 0.3, risk="low", model_version="naive", conditions=NO_CONDITIONS
        )

    return app
