"""Daily Parquet partitions of the normalized table in an object store (keys: layout.py).

Each day is one object, so a re-run of a day replaces it whole with one atomic write.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pandas as pd

from flightdelay import schema
from flightdelay.conditions import empty_observations
from flightdelay.layout import OBSERVATIONS_FILE, WEATHER, partition_day, partition_key
from flightdelay.storage import ObjectStore


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False, compression="zstd")
    return buffer.getvalue()


def write_partition(store: ObjectStore, prefix: str, day: date, df: pd.DataFrame) -> int:
    """Replace one day's partition whole; returns the bytes written."""
    data = to_parquet_bytes(schema.conform(df))
    store.put(partition_key(prefix, day), data)
    return len(data)


def partition_dates(store: ObjectStore, prefix: str) -> list[date]:
    """The days present under a prefix, sorted."""
    days = (partition_day(key) for key in store.list(prefix.rstrip("/") + "/"))
    return sorted(day for day in days if day is not None)


def read_partitions(
    store: ObjectStore,
    prefix: str,
    start: date | None = None,
    end: date | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """All rows of the days in [start, end] under a prefix, in the normalized schema."""
    days = [
        d
        for d in partition_dates(store, prefix)
        if (start is None or d >= start) and (end is None or d <= end)
    ]
    frames = []
    for i, day in enumerate(days, 1):
        frames.append(pd.read_parquet(io.BytesIO(store.get(partition_key(prefix, day)).data)))
        if progress:
            progress(i, len(days))
    if not frames:
        return schema.empty()
    return schema.conform(pd.concat(frames, ignore_index=True))


def write_observations(store: ObjectStore, day: date, observations: pd.DataFrame) -> int:
    """Replace one day of weather observations whole; returns the bytes written."""
    data = to_parquet_bytes(observations.sort_values(["obs_utc", "airport"]))
    store.put(partition_key(WEATHER, day, OBSERVATIONS_FILE), data)
    return len(data)


def read_observations(store: ObjectStore, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """The weather observations of the days in [start, end] (conditions.py's table)."""
    frames = []
    for key in store.list(WEATHER + "/"):
        day = partition_day(key, OBSERVATIONS_FILE)
        if day is not None and (start is None or day >= start) and (end is None or day <= end):
            frames.append(pd.read_parquet(io.BytesIO(store.get(key).data)))
    if not frames:
        return empty_observations()
    return pd.concat(frames, ignore_index=True).sort_values(["obs_utc", "airport"], ignore_index=True)
