"""Flights → model inputs: the ONE code path for training, evaluation and serving.

``FlightFeatures`` is a scikit-learn transformer placed first in every model pipeline, so the
pickled model carries it. Its arithmetic lives in ``FlightFeatures.compute``, which works on plain
arrays: ``transform`` (a normalized DataFrame, for training and evaluation) and the API (a few
request objects, with no DataFrame in the way) both call it. Only what is known before departure
is used (see FEATURES); a test asserts no post-departure column leaks in.

What it learns at fit time, so one flight gets the same features alone or in a batch:
- the category codes of carrier, origin, dest and route; an unknown or rare value becomes a
  missing value (NaN), which every model handles (HGB natively, the others by imputation);
- the schedule congestion table: scheduled departures per day at an origin, by weekday and hour.
"""

from __future__ import annotations

import weakref
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from flightdelay import conditions, rotation
from flightdelay.airports import distance_km
from flightdelay.records import FeatureColumn

CATEGORICAL = ("carrier", "origin", "dest", "route")
TIMETABLE = (
    "dep_hour",
    "arr_hour",
    "weekday",
    "distance_km",
    "block_minutes",
    "days_to_holiday",
    "origin_hour_departures",
)
# Then the conditions at the origin as known some hours before departure (conditions.py): columns of
# the same names in the rows given to ``transform``; absent or NaN means unknown.
# Then the aircraft's previous flight as known at that time (rotation.py), read the same way.
NUMERIC = TIMETABLE + conditions.FEATURES + rotation.FEATURES
FEATURES = CATEGORICAL + NUMERIC
# Columns of the normalized table the features read: all known before departure (the conditions'
# columns are read too where present).
INPUT_COLUMNS = (
    "carrier",
    "origin",
    "dest",
    "sched_dep_local",
    "sched_arr_local",
    "sched_dep_utc",
    "sched_arr_utc",
)
HOLIDAY_HORIZON_DAYS = 10
TAXI_MINUTES, CRUISE_KMH = 30.0, 780.0  # block-time estimate when no scheduled arrival is given
MINUTE = "datetime64[m]"


def feature_schema() -> list[FeatureColumn]:
    """Names and types of the model inputs, as recorded in every manifest."""
    return [FeatureColumn(name=n, dtype="category") for n in CATEGORICAL] + [
        FeatureColumn(name=n, dtype="float") for n in NUMERIC
    ]


@cache
def _holidays() -> np.ndarray:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays("1990-01-01", "2060-12-31")
    return np.asarray(days.values.astype("datetime64[D]").astype(np.int64))


def days_to_holiday(day_numbers: np.ndarray) -> np.ndarray:
    """Days (since the epoch) → days to the nearest US federal holiday, capped at the horizon."""
    holidays = _holidays()
    pos = np.clip(np.searchsorted(holidays, day_numbers), 1, len(holidays) - 1)
    nearest = np.minimum(np.abs(day_numbers - holidays[pos - 1]), np.abs(holidays[pos] - day_numbers))
    days: np.ndarray = np.minimum(nearest, HOLIDAY_HORIZON_DAYS).astype(float)
    return days


def _minutes_of_day(local: np.ndarray) -> np.ndarray:
    """datetime64[m] → minutes since local midnight (NaN for NaT)."""
    minutes: np.ndarray = (local - local.astype("datetime64[D]")).astype(float)
    minutes[np.isnat(local)] = np.nan
    return minutes


def _column(values: Any, dtype: str) -> np.ndarray:
    """A DataFrame column as a plain array: strings as objects, times as naive datetime64[m]."""
    if dtype == "object":
        return np.asarray(values.astype(object).to_numpy(), dtype=object)
    series = pd.to_datetime(values)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(series.to_numpy(dtype="datetime64[ns]").astype(MINUTE))


class FlightFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """Normalized flight rows → a float matrix of FEATURES (categories as codes, unknown as NaN)."""

    def __init__(self, min_count: int = 20, max_categories: int = 250) -> None:
        self.min_count = min_count
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: Any = None) -> FlightFeatures:
        _TABLES.pop(self, None)  # refitted: its congestion table is built anew
        carrier, origin, dest = (_column(X[c], "object") for c in ("carrier", "origin", "dest"))
        dep_local = _column(X["sched_dep_local"], MINUTE)
        values = {"carrier": carrier, "origin": origin, "dest": dest, "route": _routes(origin, dest)}
        self.categories_: dict[str, dict[str, int]] = {}
        for name in CATEGORICAL:
            counts = pd.Series(values[name]).value_counts()
            kept = counts[counts >= self.min_count].head(self.max_categories).index
            self.categories_[name] = {str(value): code for code, value in enumerate(sorted(kept))}
        # Scheduled departures per day at each origin, by weekday and local hour.
        day = dep_local.astype("datetime64[D]")
        slots = pd.DataFrame(
            {"origin": origin, "weekday": _weekday(day), "hour": _minutes_of_day(dep_local) // 60, "day": day}
        ).dropna()
        per_slot = slots.groupby(["origin", "weekday", "hour"]).size()
        n_days = slots.groupby(["origin", "weekday"])["day"].nunique()
        rate = per_slot / n_days.reindex(per_slot.index.droplevel(2)).to_numpy()
        # Keys are "origin|weekday|hour" strings: skops saves str-keyed tables only.
        self.congestion_: dict[str, float] = {
            _slot(str(o), int(w), int(h)): float(v) for (o, w, h), v in rate.items()
        }
        self.known_origins_ = sorted({key.split("|")[0] for key in self.congestion_})
        # A condition never known in training (no weather collected yet, no aircraft) carries nothing
        # to learn: it is a constant 0, which every model accepts (gradient boosting refuses an
        # all-NaN column).
        self.unseen_conditions_ = [
            name
            for name in conditions.FEATURES + rotation.FEATURES
            if name not in X.columns or X[name].isna().all()
        ]
        self.n_features_in_ = len(INPUT_COLUMNS)
        return self

    def unseen(self, carrier: np.ndarray, origin: np.ndarray, dest: np.ndarray) -> list[tuple[str, ...]]:
        """For each flight, what of it the model never learned from (rare values count as unseen),
        in words: ("carrier ZZ", "origin XYZ", "route XYZ-ABC"); the model answers from the rest."""
        known = [self.categories_[name] for name in CATEGORICAL]
        carriers, origins, dests, routes = known
        out: list[tuple[str, ...]] = []
        for c, o, d in zip(carrier, origin, dest, strict=True):
            if c in carriers and o in origins and d in dests and f"{o}-{d}" in routes:  # the usual case
                out.append(())
                continue
            named = zip(CATEGORICAL, (c, o, d, f"{o}-{d}"), known, strict=True)
            out.append(tuple(f"{name} {value}" for name, value, seen in named if value not in seen))
        return out

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in INPUT_COLUMNS if c not in X.columns]
        if missing:
            raise KeyError(f"flight rows lack column(s): {', '.join(missing)}")
        return self.compute(
            carrier=_column(X["carrier"], "object"),
            origin=_column(X["origin"], "object"),
            dest=_column(X["dest"], "object"),
            dep_local=_column(X["sched_dep_local"], MINUTE),
            arr_local=_column(X["sched_arr_local"], MINUTE),
            dep_utc=_column(X["sched_dep_utc"], MINUTE),
            arr_utc=_column(X["sched_arr_utc"], MINUTE),
            at_origin=conditions.Known(
                {
                    name: X[name].to_numpy(dtype=float) if name in X.columns else np.full(len(X), np.nan)
                    for name in conditions.FEATURES
                }
            ),
            aircraft=rotation.Known(
                {
                    name: X[name].to_numpy(dtype=float) if name in X.columns else np.full(len(X), np.nan)
                    for name in rotation.FEATURES
                },
                np.full(len(X), -1, dtype=np.intp),
            ),
        )

    def compute(
        self,
        *,
        carrier: np.ndarray,
        origin: np.ndarray,
        dest: np.ndarray,
        dep_local: np.ndarray,
        arr_local: np.ndarray,
        dep_utc: np.ndarray,
        arr_utc: np.ndarray,
        at_origin: conditions.Known | None = None,
        aircraft: rotation.Known | None = None,
    ) -> np.ndarray:
        """The feature matrix from plain arrays (strings as objects, times as naive datetime64[m]),
        the conditions known before departure and the aircraft's previous flight (None: unknown)."""
        n = len(carrier)
        out = np.empty((n, len(FEATURES)), dtype=float)
        routes = _routes(origin, dest)
        for i, (name, values) in enumerate(zip(CATEGORICAL, (carrier, origin, dest, routes), strict=True)):
            codes = self.categories_[name]
            out[:, i] = np.fromiter((codes.get(v, np.nan) for v in values), dtype=float, count=n)
        dep_minutes = _minutes_of_day(dep_local)
        day = dep_local.astype("datetime64[D]")
        weekday = _weekday(day)
        distance = distance_km(origin, dest)
        block = (arr_utc - dep_utc).astype(float)
        block[np.isnat(arr_utc) | np.isnat(dep_utc)] = np.nan
        estimate = TAXI_MINUTES + distance / CRUISE_KMH * 60.0
        out[:, FEATURES.index("dep_hour")] = dep_minutes / 60.0
        out[:, FEATURES.index("arr_hour")] = _minutes_of_day(arr_local) / 60.0
        out[:, FEATURES.index("weekday")] = weekday
        out[:, FEATURES.index("distance_km")] = distance
        out[:, FEATURES.index("block_minutes")] = np.where(np.isnan(block), estimate, block)
        out[:, FEATURES.index("days_to_holiday")] = days_to_holiday(day.astype(np.int64))
        origins, slots = _congestion_table(self)
        row = np.fromiter((origins.get(o, -1) for o in origin), dtype=np.intp, count=n)
        known = (row >= 0) & ~np.isnan(dep_minutes)
        congestion = np.full(n, np.nan)
        congestion[known] = slots[
            row[known], weekday[known].astype(np.intp), (dep_minutes[known] // 60).astype(np.intp)
        ]
        out[:, FEATURES.index("origin_hour_departures")] = congestion
        at_origin = at_origin if at_origin is not None else conditions.Known.unknown(n)
        for name in conditions.FEATURES:
            out[:, FEATURES.index(name)] = at_origin.values[name]
        aircraft = aircraft if aircraft is not None else rotation.Known.unknown(n)
        for name in rotation.FEATURES:
            out[:, FEATURES.index(name)] = aircraft.values[name]
        for name in self.unseen_conditions_:
            out[:, FEATURES.index(name)] = 0.0
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(FEATURES, dtype=object)


def _slot(origin: str, weekday: int, hour: int) -> str:
    return f"{origin}|{weekday}|{hour}"


_TABLES: weakref.WeakKeyDictionary[FlightFeatures, tuple[dict[str, int], np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def _congestion_table(features: FlightFeatures) -> tuple[dict[str, int], np.ndarray]:
    """The fitted congestion (str keys, as skops saves them) as an array by origin, weekday and hour
    (0 where no departure was scheduled), built once per fitted step and never saved with it: a
    lookup by index instead of a key string per flight (10,000 flights: 5 -> 1 ms)."""
    table = _TABLES.get(features)
    if table is None:
        origins = {origin: i for i, origin in enumerate(features.known_origins_)}
        slots = np.zeros((len(origins), 7, 24))
        for key, value in features.congestion_.items():
            origin, weekday, hour = key.split("|")
            slots[origins[origin], int(weekday), int(hour)] = value
        table = _TABLES[features] = (origins, slots)
    return table


def _routes(origin: np.ndarray, dest: np.ndarray) -> np.ndarray:
    return np.array([f"{o}-{d}" for o, d in zip(origin, dest, strict=True)], dtype=object)


def _weekday(day: np.ndarray) -> np.ndarray:
    """datetime64[D] → Monday=0 … Sunday=6 (1970-01-01 was a Thursday)."""
    weekday: np.ndarray = ((day.astype(np.int64) + 3) % 7).astype(float)
    return weekday
