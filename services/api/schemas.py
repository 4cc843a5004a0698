"""Request and response bodies of the prediction API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict

from services.api.limits import MAX_BATCH

EXAMPLE: dict[str, Any] = {
    "carrier": "B6",
    "flight_number": "1816",
    "origin": "JFK",
    "dest": "SYR",
    "scheduled_departure": "2013-12-02T22:50:00",
    "scheduled_arrival": "2013-12-02T23:56:00",
}


# The codes in either case, trimmed (pydantic trims before the pattern and upper-cases after it).
CARRIER, AIRPORT, FLIGHT_NUMBER = r"^[A-Za-z0-9]{2}$", r"^[A-Za-z]{3}$", r"^[0-9]{1,5}[A-Za-z]?$"
TAIL_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9-]{1,9}$"


# A typed dict that pydantic-core validates alone (1.6 µs a flight, against 9 for a model with Python
# validators); the rules across fields (local times, dest != origin, arrival after departure) are
# checked for the whole request at once by serving.asked.
@with_config(
    ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        str_to_upper=True,
        json_schema_extra={"examples": [EXAMPLE]},
    )
)
class FlightIn(TypedDict):
    """What a traveller knows before departure. Times are the airports' local wall-clock times."""

    carrier: Annotated[
        str, Field(pattern=CARRIER, description="operating airline, IATA code", examples=["B6"])
    ]
    flight_number: NotRequired[Annotated[str | None, Field(pattern=FLIGHT_NUMBER, examples=["1816"])]]
    origin: Annotated[
        str, Field(pattern=AIRPORT, description="departure airport, IATA code", examples=["JFK"])
    ]
    dest: Annotated[str, Field(pattern=AIRPORT, description="arrival airport, IATA code", examples=["SYR"])]
    scheduled_departure: Annotated[datetime, Field(description="local time at the origin, no UTC offset")]
    scheduled_arrival: NotRequired[
        Annotated[datetime | None, Field(description="local time at the destination, no UTC offset")]
    ]
    tail_number: NotRequired[
        Annotated[
            str | None,
            Field(
                pattern=TAIL_NUMBER,
                description="the aircraft's registration, if known; otherwise it is looked up from "
                "carrier, flight_number and the day in the conditions' snapshot",
                examples=["N14228"],
            ),
        ]
    ]


class BatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"flights": [EXAMPLE]}]},
    )

    flights: list[FlightIn] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _within_the_batch_limit(cls, data: Any) -> Any:
        """Refuse an oversized batch before any of its rows is validated."""
        flights = data.get("flights") if isinstance(data, dict) else None
        if isinstance(flights, list) and len(flights) > MAX_BATCH.get():
            raise ValueError(f"flights: at most {MAX_BATCH.get()} flights per request")
        return data


Risk = Literal["low", "medium", "high"]


class ConditionsUsed(BaseModel):
    """What the answer knew of the origin's conditions (conditions/latest.json), and how old it was."""

    known_at: datetime | None = Field(
        description="when the conditions used were known; null: none were (a flight more than 6 h "
        "after them, before them, or an airport without them): the timetable alone answered"
    )
    hours_ahead: float | None = Field(description="hours from known_at to the scheduled departure")
    weather_age_minutes: float | None = Field(description="age of the weather observation at known_at")
    departures: bool = Field(description="whether the origin's recent departures were known")


class PreviousFlight(BaseModel):
    """The aircraft's previous flight of the day as known when the answer's conditions were."""

    flight: str = Field(examples=["UA 1545"])
    origin: str
    dest: str
    left: bool = Field(description="whether it had left by then")
    delay_minutes: float = Field(
        description="its departure delay if it had left; if not, how overdue it was (0: not yet due)"
    )
    turnaround_minutes: float = Field(
        description="minutes from its expected arrival to this flight's scheduled departure "
        "(negative: expected after it)"
    )


class AircraftUsed(BaseModel):
    """Which aircraft flies this flight and what its previous flight said (flightdelay/rotation.py)."""

    tail_number: str | None = Field(default=None, description="the aircraft's registration; null: unknown")
    found_by: Literal["given", "schedule"] | None = Field(
        default=None,
        description="given in the request, or found from carrier, flight number and day in the "
        "conditions' snapshot; null: not found",
    )
    previous_flight: PreviousFlight | None = Field(
        default=None,
        description="null: unknown aircraft, its first flight of the day, or a flight beyond the horizon",
    )
    summary: str = Field(examples=["N14228 left LGA at 14:05, 52 min late; 35 min to turn around"])
    recommendation: str | None = Field(
        default=None, description="what follows from the aircraft's state, if anything"
    )


class Factor(BaseModel):
    """One input's share of this answer, read from the model itself (flightdelay/explain.py)."""

    input: str = Field(
        description="the model input, or the group of inputs that measure one thing (flight_length, "
        "weather, recent_departures)"
    )
    words: str = Field(
        description="in words; the weather names its readings that count most for this flight",
        examples=[
            "the departure time raises the chance",
            "the weather at the departure airport (gusts 32 kt, visibility 2 mi) raises the chance",
        ],
    )
    effect: float = Field(
        description="percentage points: the probability with this input's part, minus without it"
    )


# A real answer (the demo's second model, `?explain=true`): UA 1493 EWR→LAX, 9 December 2013 at
# 14:30, asked at noon local with the weather then; it arrived 45 minutes late.
ANSWER_EXAMPLE: dict[str, Any] = {
    "probability": 0.3686,
    "delayed": True,
    "risk": "medium",
    "model_version": "20261123T212929Z-5af5b81c",
    "conditions": {
        "known_at": "2013-12-09T17:00:00Z",
        "hours_ahead": 2.5,
        "weather_age_minutes": 0.0,
        "departures": False,
    },
    "aircraft": {
        "tail_number": None,
        "found_by": None,
        "previous_flight": None,
        "summary": "The aircraft is unknown: the answer rests on the timetable and conditions.",
        "recommendation": None,
    },
    "unseen": [],
    "factors": [
        {
            "input": "weather",
            "words": "the weather at the departure airport raises the chance",
            "effect": 16.1,
        },
        {"input": "origin", "words": "the departure airport lowers the chance", "effect": -7.3},
        {"input": "flight_length", "words": "the flight's length lowers the chance", "effect": -6.6},
    ],
    "advice": "The weather at the departure airport raises the risk: check the flight's status first.",
}


class PredictionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ANSWER_EXAMPLE]})

    probability: float = Field(description="probability of arriving 15 or more minutes late")
    delayed: bool = Field(description="probability at or above the model's decision threshold")
    risk: Risk = Field(
        description="low below the model's threshold (delayed false); medium from it; high from "
        "FLIGHTDELAY_RISK_HIGH (never below the threshold): flag and tier always agree"
    )
    model_version: str
    conditions: ConditionsUsed
    aircraft: AircraftUsed
    unseen: list[str] = Field(
        default_factory=list,
        description="what of this flight the model never learned from (an unknown carrier, airport or "
        "route): the answer rests on the rest of the timetable, so trust it less",
    )
    factors: list[Factor] | None = Field(
        None,
        description="with ?explain=true: the three inputs that moved this probability most, exact "
        "for the models training makes",
    )
    advice: str | None = Field(None, description="with ?explain=true: one line of advice where it helps")


class BatchOut(BaseModel):
    model_version: str
    predictions: list[PredictionOut]


class LiveQualityOut(BaseModel):
    """The live model on real outcomes over its last watched days (see /status)."""

    days: int
    first_day: date
    last_day: date
    flights: int
    roc_auc: float | None = Field(description="mean of the daily ROC-AUCs")
    flag_accuracy: float = Field(description="share of flights whose yes/no flag was right")
    late_share: float
    mean_probability: float


class ModelOut(BaseModel):
    version: str | None
    model_type: str | None = None
    threshold: float | None = None
    metrics: dict[str, float] = {}
    trained_on: dict[str, object] | None = None
    created_at: datetime | None = None
    promoted_at: datetime | None = None
    loaded_at: datetime | None = None
    last_reload: dict[str, object] | None = None
    live_quality: LiveQualityOut | None = Field(
        None, description="how its answers fared against real outcomes, where the evaluator has judged them"
    )


class HealthOut(BaseModel):
    status: Literal["ok"] = Field(description="the process is up")
    ready: bool = Field(description="a verified model is loaded and /predict answers")
    model_version: str | None = None


class ErrorOut(BaseModel):
    detail: str


NOT_READY_RESPONSE: dict[int | str, dict[str, object]] = {
    503: {"model": ErrorOut, "description": "No model is live yet"}
}
