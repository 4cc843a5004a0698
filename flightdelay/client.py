"""A small typed client for the prediction API (httpx): what the demo and `flightdelay ask` use.

    with Client("http://127.0.0.1:8000") as api:
        answer = api.predict(Flight(carrier="B6", origin="JFK", dest="SYR",
                                    scheduled_departure=datetime(2013, 12, 2, 22, 50)))
        answer.probability, answer.delayed, answer.risk, answer.model_version

An answer other than 2xx raises ApiError with the status and the API's own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import httpx
import pandas as pd
from pydantic import BaseModel, ConfigDict

from flightdelay.errors import FlightDelayError


class Flight(BaseModel):
    """A flight as the API takes it: local wall-clock times, no UTC offset."""

    carrier: str
    origin: str
    dest: str
    scheduled_departure: datetime
    scheduled_arrival: datetime | None = None
    flight_number: str | None = None


class ConditionsUsed(BaseModel):
    model_config = ConfigDict(extra="allow")

    known_at: datetime | None
    hours_ahead: float | None
    weather_age_minutes: float | None
    departures: bool


class Prediction(BaseModel):
    model_config = ConfigDict(extra="allow")  # newer servers may say more

    probability: float
    delayed: bool
    risk: Literal["low", "medium", "high"]
    model_version: str
    conditions: ConditionsUsed


class ApiError(FlightDelayError):
    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"the API answered {status}: {detail}")
        self.status = status
        self.detail = detail


class Client:
    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text[:200]
            raise ApiError(response.status_code, detail)
        return response.json()

    def predict(self, flight: Flight) -> Prediction:
        return Prediction.model_validate(self._call("POST", "/predict", _body(flight)))

    def predict_many(self, flights: Sequence[Flight], *, batch: int = 10_000) -> list[Prediction]:
        """One answer per flight, in order, in batches the API accepts."""
        out: list[Prediction] = []
        for start in range(0, len(flights), batch):
            chunk = [_body(f) for f in flights[start : start + batch]]
            answer = self._call("POST", "/predict", {"flights": chunk})
            out.extend(Prediction.model_validate(p) for p in answer["predictions"])
        return out

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def model(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/model")
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/status.json")
        return result


def flights_from_table(flights: pd.DataFrame) -> list[Flight]:
    """Rows of the normalized flight table (flightdelay/schema.py) as the API takes them."""
    return [
        Flight(
            carrier=r.carrier,
            origin=r.origin,
            dest=r.dest,
            scheduled_departure=r.sched_dep_local.to_pydatetime(),
            scheduled_arrival=r.sched_arr_local.to_pydatetime(),
            flight_number=r.flight_number,
        )
        for r in flights.itertuples()
    ]


def _body(flight: Flight) -> dict[str, Any]:
    return flight.model_dump(mode="json", exclude_none=True)
