"""The API's answers as a table: one row per flight answered, written by the API (DATA
``predictions/``, keys in layout.py) and read by the evaluator, which joins them with what happened.

A row holds what was asked (the flight as scheduled, local times), what was known (the conditions'
values, None where unknown), and what was answered (probability, flag, threshold, model version),
with the time it was asked. Rows are partitioned by the flight's local departure day, the day the
fetcher later brings the outcome of.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flightdelay import conditions
from flightdelay.layout import PREDICTIONS, predictions_day, predictions_part, predictions_prefix
from flightdelay.serving import Flights
from flightdelay.storage import ObjectStore

# The flight as asked; the join key with the fetched outcomes (new/clean/) is JOIN_KEY (a request
# need not name its flight number). Two flights of one key (UA EWR→BOS at 08:38 twice on 2013-12-09)
# cannot be told apart, so the evaluator leaves them out.
JOIN_KEY = ["carrier", "origin", "dest", "sched_dep_local"]
COLUMNS = (
    "asked_utc",
    *JOIN_KEY,
    "sched_arr_local",
    "probability",
    "delayed",
    "threshold",
    "model_version",
    "conditions_as_of",
    *conditions.FEATURES,
)


def asked(flights: Flights) -> dict[str, np.ndarray]:
    """The flights as asked (JOIN_KEY and the scheduled arrival), as the flights' own arrays: the
    API's buffered answers hold no object per flight, so its garbage collector has nothing to walk
    (a buffer of flight objects made each full collection 2-13 ms, in the middle of requests)."""
    return {
        "carrier": flights.carrier,
        "origin": flights.origin,
        "dest": flights.dest,
        "sched_dep_local": flights.departure_local,
        "sched_arr_local": flights.arrival_local,
    }


def table(
    flights: Mapping[str, np.ndarray],
    probabilities: np.ndarray,
    known: conditions.Known,
    *,
    model_version: np.ndarray,
    threshold: np.ndarray,
    asked: np.ndarray,
    conditions_as_of: np.ndarray,
) -> pd.DataFrame:
    """Answers as rows of COLUMNS: one per flight, each array aligned with ``flights`` (``asked``'s
    arrays; times as naive UTC datetime64, NaT where no conditions were known). Built in one pass,
    whatever the number of model calls the rows came from."""
    return pd.DataFrame(
        {
            "asked_utc": pd.Series(asked.astype("datetime64[us]")).dt.tz_localize(UTC),
            "carrier": flights["carrier"].astype(object),
            "origin": flights["origin"].astype(object),
            "dest": flights["dest"].astype(object),
            "sched_dep_local": flights["sched_dep_local"].astype("datetime64[us]"),
            "sched_arr_local": flights["sched_arr_local"].astype("datetime64[us]"),
            "probability": probabilities.astype(float),
            "delayed": probabilities >= threshold,
            "threshold": threshold.astype(float),
            "model_version": model_version.astype(object),
            "conditions_as_of": pd.Series(conditions_as_of.astype("datetime64[us]")).dt.tz_localize(UTC),
            **{name: known.values[name].astype(float) for name in conditions.FEATURES},
        },
        columns=list(COLUMNS),
    )


def new_part_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def write(store: ObjectStore, answers: pd.DataFrame, *, part_id: str | None = None) -> list[str]:
    """Append the answers, one new part per departure day; returns the keys written. Writing the
    same answers again with the same ``part_id`` (a retry) rewrites the same keys, never a copy."""
    keys = []
    part_id = part_id or new_part_id()
    # One Arrow table, split by day in numpy: pandas' groupby on dates and a conversion per part
    # took twice as long, in the API's flush thread, holding the GIL its requests need.
    days = answers["sched_dep_local"].to_numpy().astype("datetime64[D]")
    table = pa.Table.from_pandas(answers, preserve_index=False)
    unique_days = np.unique(days)
    for day in unique_days:
        rows = table if len(unique_days) == 1 else table.filter(pa.array(days == day))
        buffer = io.BytesIO()
        pq.write_table(rows, buffer, compression="zstd")
        key = predictions_part(day.astype(date), part_id)
        store.put(key, buffer.getvalue())
        keys.append(key)
    return keys


def read(store: ObjectStore, day: date) -> pd.DataFrame:
    """Every answer about flights leaving on ``day`` (local), oldest first."""
    frames = [
        pd.read_parquet(io.BytesIO(store.get(key).data))
        for key in store.list(predictions_prefix(day))
        if predictions_day(key) == day
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return pd.concat(frames, ignore_index=True).sort_values("asked_utc", kind="stable", ignore_index=True)


def answered_days(store: ObjectStore) -> list[date]:
    """The departure days some answer is about, sorted."""
    days = {predictions_day(key) for key in store.list(PREDICTIONS + "/")}
    return sorted(day for day in days if day is not None)
