"""A small typed client for the flightdelay prediction API, standard library only, so it runs
anywhere the API is reached from: the demo, `flightdelay ask`, and the deploy workflow's smoke
test on a bare CI runner (scripts/smoke.py).

    with Client("http://127.0.0.1:8000") as api:
        answer = api.predict(Flight("B6", "JFK", "SYR", datetime(2013, 12, 2, 22, 50)))
        answer.probability, answer.delayed, answer.risk, answer.model_version

An answer other than 2xx raises ApiError with the status and the API's own words; a server that
cannot be reached raises ApiUnreachable.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Flight:
    """A flight as the API takes it: local wall-clock times, no UTC offset."""

    carrier: str
    origin: str
    dest: str
    scheduled_departure: datetime
    scheduled_arrival: datetime | None = None
    flight_number: str | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "carrier": self.carrier,
            "origin": self.origin,
            "dest": self.dest,
            "scheduled_departure": self.scheduled_departure.isoformat(),
        }
        if self.scheduled_arrival is not None:
            out["scheduled_arrival"] = self.scheduled_arrival.isoformat()
        if self.flight_number:
            out["flight_number"] = self.flight_number
        return out


@dataclass(frozen=True)
class ConditionsUsed:
    known_at: str | None
    hours_ahead: float | None
    weather_age_minutes: float | None
    departures: bool


@dataclass(frozen=True)
class Factor:
    input: str
    words: str
    effect: float


@dataclass(frozen=True)
class Prediction:
    probability: float
    delayed: bool
    risk: str
    model_version: str
    conditions: ConditionsUsed
    unseen: list[str] = field(default_factory=list)
    factors: list[Factor] | None = None
    advice: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prediction:
        factors = data.get("factors")
        return cls(
            probability=float(data["probability"]),
            delayed=bool(data["delayed"]),
            risk=str(data["risk"]),
            model_version=str(data["model_version"]),
            conditions=ConditionsUsed(**data["conditions"]),
            unseen=list(data.get("unseen", [])),
            factors=[Factor(**f) for f in factors] if factors is not None else None,
            advice=data.get("advice"),
        )


class ApiError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"the API answered {status}: {detail}")
        self.status = status
        self.detail = detail


class ApiUnreachable(ApiError):
    def __init__(self, reason: str) -> None:
        super().__init__(0, f"cannot connect ({reason})")


class Client:
    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the API's URL must start with http:// or https://, not {url[:40]!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request; the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__: http(s) only)
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (as above)
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw).get("detail", raw.decode(errors="replace"))
            except (ValueError, AttributeError):
                detail = raw.decode(errors="replace")[:200]
            raise ApiError(exc.code, detail) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiUnreachable(str(getattr(exc, "reason", exc))) from None

    def predict(self, flight: Flight, *, explain: bool = False) -> Prediction:
        path = "/predict?explain=true" if explain else "/predict"
        return Prediction.from_json(self.call("POST", path, flight.body()))

    def predict_many(self, flights: Sequence[Flight], *, batch: int = 10_000) -> list[Prediction]:
        """One answer per flight, in order, in batches the API accepts."""
        out: list[Prediction] = []
        for start in range(0, len(flights), batch):
            answer = self.call(
                "POST", "/predict", {"flights": [f.body() for f in flights[start : start + batch]]}
            )
            out.extend(Prediction.from_json(p) for p in answer["predictions"])
        return out

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/health")
        return result

    def ready(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/ready")
        return result

    def model(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/model")
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/status.json")
        return result
