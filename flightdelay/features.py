"""Flights → model inputs: the ONE code path for training, evaluation and serving.

``FlightFeatures`` is a scikit-learn transformer placed first in every model pipeline, so the
pickled model carries it and ``predict_proba`` takes normalized flight rows directly. Only what is
known before departure is used (see FEATURES); a test asserts no post-departure column leaks in.

What it learns at fit time, so one flight gets the same features alone or in a batch:
- the category codes of carrier, origin, dest and route; an unknown or rare value becomes a
  missing value (NaN), which every model handles (HGB natively, the others by imputation);
- the schedule congestion table: scheduled departures per day at an origin, by weekday and hour.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from flightdelay.airports import great_circle_km
from flightdelay.registry import FeatureColumn

CATEGORICAL = ("carrier", "origin", "dest", "route")
NUMERIC = (
    "dep_hour",
    "arr_hour",
    "weekday",
    "distance_km",
    "block_minutes",
    "days_to_holiday",
    "origin_hour_departures",
)
FEATURES = CATEGORICAL + NUMERIC
# Columns of the normalized table the features read: all known before departure.
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


def days_to_holiday(dates: pd.Series) -> np.ndarray:
    """Days to the nearest US federal holiday (before or after), capped at the horizon."""
    day_numbers = dates.to_numpy(dtype="datetime64[us]").astype("datetime64[D]").astype(np.int64)
    holidays = _holidays()
    pos = np.clip(np.searchsorted(holidays, day_numbers), 1, len(holidays) - 1)
    nearest = np.minimum(np.abs(day_numbers - holidays[pos - 1]), np.abs(holidays[pos] - day_numbers))
    days: np.ndarray = np.minimum(nearest, HOLIDAY_HORIZON_DAYS).astype(float)
    return days


def _hours(ts: pd.Series) -> np.ndarray:
    hours: np.ndarray = (ts.dt.hour + ts.dt.minute / 60.0).to_numpy(float, na_value=np.nan)
    return hours


class FlightFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Normalized flight rows → a float frame of FEATURES (categories as codes, unknown as NaN)."""

    def __init__(self, min_count: int = 20, max_categories: int = 250) -> None:
        self.min_count = min_count
        self.max_categories = max_categories

    @staticmethod
    def _base(df: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in INPUT_COLUMNS if c not in df.columns]
        if missing:
            raise KeyError(f"flight rows lack column(s): {', '.join(missing)}")
        dep_local = pd.to_datetime(df["sched_dep_local"])
        return pd.DataFrame(
            {
                "carrier": df["carrier"].astype(object).to_numpy(),
                "origin": df["origin"].astype(object).to_numpy(),
                "dest": df["dest"].astype(object).to_numpy(),
                "route": (df["origin"].astype(str) + "-" + df["dest"].astype(str)).to_numpy(),
                "weekday": dep_local.dt.day_of_week.to_numpy(float),
                "dep_hour_int": dep_local.dt.hour.to_numpy(float),
            }
        )

    def fit(self, X: pd.DataFrame, y: Any = None) -> FlightFeatures:
        base = self._base(X)
        self.categories_: dict[str, dict[str, int]] = {}
        for name in CATEGORICAL:
            counts = base[name].value_counts()
            kept = counts[counts >= self.min_count].head(self.max_categories).index
            self.categories_[name] = {value: code for code, value in enumerate(sorted(kept))}
        # Scheduled departures per day at each origin, by weekday and local hour.
        days = pd.to_datetime(X["sched_dep_local"]).dt.normalize()
        per_slot = base.assign(day=days.to_numpy()).groupby(["origin", "weekday", "dep_hour_int"]).size()
        n_days = base.assign(day=days.to_numpy()).groupby(["origin", "weekday"])["day"].nunique()
        rate = per_slot / n_days.reindex(per_slot.index.droplevel(2)).to_numpy()
        self.congestion_: dict[tuple[str, int, int], float] = {
            (str(o), int(w), int(h)): float(v) for (o, w, h), v in rate.items()
        }
        self.known_origins_ = sorted({key[0] for key in self.congestion_})
        self.n_features_in_ = len(INPUT_COLUMNS)
        self.feature_names_out_ = np.array(FEATURES, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        base = self._base(X)
        out: dict[str, np.ndarray] = {}
        for name in CATEGORICAL:
            out[name] = base[name].map(self.categories_[name]).to_numpy(float, na_value=np.nan)
        dep_local = pd.to_datetime(X["sched_dep_local"])
        out["dep_hour"] = _hours(dep_local)
        out["arr_hour"] = _hours(pd.to_datetime(X["sched_arr_local"]))
        out["weekday"] = base["weekday"].to_numpy(float)
        distance = great_circle_km(base["origin"], base["dest"]).to_numpy(float)
        out["distance_km"] = distance
        block = (pd.to_datetime(X["sched_arr_utc"]) - pd.to_datetime(X["sched_dep_utc"])).dt.total_seconds()
        block_minutes = (block / 60.0).to_numpy(float, na_value=np.nan)
        estimate = TAXI_MINUTES + distance / CRUISE_KMH * 60.0
        out["block_minutes"] = np.where(np.isnan(block_minutes), estimate, block_minutes)
        out["days_to_holiday"] = days_to_holiday(dep_local)
        out["origin_hour_departures"] = self._congestion(base)
        return pd.DataFrame(out, columns=list(FEATURES))

    def _congestion(self, base: pd.DataFrame) -> np.ndarray:
        """Look up the fitted congestion table: 0 for a known origin's empty slot, NaN if unknown."""
        table = getattr(self, "_congestion_table", None)
        if table is None:
            table = self._congestion_table = pd.Series(self.congestion_, dtype=float)
        keys = pd.MultiIndex.from_arrays(
            [base["origin"].astype(str), base["weekday"].astype(int), base["dep_hour_int"].astype(int)]
        )
        values = table.reindex(keys).to_numpy(float)
        known_origin = base["origin"].isin(self.known_origins_).to_numpy()
        return np.where(np.isnan(values) & known_origin, 0.0, values)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(FEATURES, dtype=object)
