"""The training window read as a stream: memory bounded by a row budget, never by the history.

    count pass   each day's labelled flights (one column read), by month
    plan         the budget spent newest first: the latest months whole while they fit in
                 WHOLE_SHARE of it, the older months sampled at one rate into the rest
    read pass    day by day, oldest first: the day's labelled flights sampled at the day's rate,
                 each with the conditions known before it (the weather of the UTC days around it;
                 the departures of the day and the day before, all of them, not the sample);
                 compact columns kept

Only the kept rows and two days of flights are in memory at once, so the peak is set by
FLIGHTDELAY_TRAIN_MAX_ROWS (default 1,000,000 flights) and not by how many years lie in training/.
The validation views are built the same way from the last days only.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from flightdelay import conditions, layout, rotation, schema
from flightdelay.conditions import empty_observations
from flightdelay.errors import ObjectNotFound
from flightdelay.features import INPUT_COLUMNS
from flightdelay.partitions import partition_dates
from flightdelay.storage import ObjectStore

WHOLE_SHARE = 0.5  # of the budget, for the latest months taken whole
# What training keeps of each flight: the features' inputs, the conditions, the aircraft's previous
# flight, the label and its day; and its tail number, which the validation views look the aircraft up by.
KEPT = (
    *INPUT_COLUMNS,
    "flight_date",
    "arr_delay",
    "tail_number",
    *conditions.FEATURES,
    *rotation.FEATURES,
)
# What the conditions read of the departures (the origin's recent ones) and the aircraft's legs of
# the day (rotation.py) read of every flight, of any status.
DEPARTURE_COLUMNS = list(dict.fromkeys(["origin", "sched_dep_utc", "actual_dep_utc", *rotation.LEG_COLUMNS]))


@dataclass
class Window:
    """The rows to learn from (sampled, with conditions) and how they were chosen."""

    rows: pd.DataFrame
    rows_read: int
    rows_unlabelled: int
    rows_labelled: int
    sampled: bool
    months_whole: list[str] = field(default_factory=list)
    older_rate: float = 1.0
    views: Callable[[pd.DataFrame], dict[str, pd.DataFrame]] = field(repr=False, default=lambda _: {})


def _read(store: ObjectStore, key: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    try:
        source = io.BytesIO(store.get(key).data)
    except ObjectNotFound:
        return None
    if columns is None:
        return pd.read_parquet(source)
    present = set(pq.read_schema(source).names)
    source.seek(0)
    # A column added to the schema after a partition was written (tail_number) reads as null.
    return pd.read_parquet(source, columns=[c for c in columns if c in present]).reindex(columns=columns)


class _Days:
    """The window's days under training/ (and new/clean/: the fetched copy of a day wins)."""

    def __init__(
        self, store: ObjectStore, *, include_new: bool, start: date | None, end: date | None
    ) -> None:
        self.store = store
        self.prefixes = [layout.TRAINING, *([layout.NEW_CLEAN] if include_new else [])]
        present = {prefix: set(partition_dates(store, prefix)) for prefix in self.prefixes}
        self.present = present
        self.days = sorted(
            d
            for d in set().union(*present.values())
            if (start is None or d >= start) and (end is None or d <= end)
        )

    def flights(self, day: date, columns: list[str] | None = None) -> pd.DataFrame:
        """The day's flights (only ``columns`` if named); a flight in both copies counts once."""
        wanted = None if columns is None else list(dict.fromkeys([*schema.FLIGHT_KEY, *columns]))
        frames = [
            frame
            for prefix in self.prefixes
            if day in self.present[prefix]
            and (frame := _read(self.store, layout.partition_key(prefix, day), wanted)) is not None
        ]
        if not frames:
            table = schema.empty()
        elif len(frames) == 1:
            table = frames[0] if columns is not None else schema.conform(frames[0])
        else:
            table = pd.concat(frames if columns is not None else [schema.conform(f) for f in frames])
            table = table.drop_duplicates(schema.FLIGHT_KEY, keep="last").reset_index(drop=True)
        return table if columns is None else table[columns]


def _observations(store: ObjectStore, day: date) -> pd.DataFrame:
    frame = _read(store, layout.partition_key(layout.WEATHER, day, layout.OBSERVATIONS_FILE))
    return empty_observations() if frame is None else frame


def plan(labelled_by_day: dict[date, int], budget: int) -> tuple[dict[date, float], list[str], float]:
    """Each day's sampling rate: every day whole when the window fits the budget; otherwise the
    latest months whole while they fit in WHOLE_SHARE of it (the newest always, sampled if it alone
    is over), and the older days at the one rate that fills the rest."""
    total = sum(labelled_by_day.values())
    if total <= budget:
        return dict.fromkeys(labelled_by_day, 1.0), [], 1.0
    months: dict[str, int] = {}
    for day, n in labelled_by_day.items():
        months[f"{day:%Y-%m}"] = months.get(f"{day:%Y-%m}", 0) + n
    whole: list[str] = []
    used = 0
    for month in sorted(months, reverse=True):
        if used + months[month] > budget * WHOLE_SHARE:
            break
        whole.append(month)
        used += months[month]
    older = total - used
    rate = min(1.0, (budget - used) / older) if older else 1.0
    return {d: 1.0 if f"{d:%Y-%m}" in whole else rate for d in labelled_by_day}, sorted(whole), rate


def allocate(expected: dict[date, float], n: int) -> dict[date, int]:
    """n rows shared among the days in proportion to what each day would give (largest remainders):
    a uniform sample of exactly n (fewer than the days give), drawn a day at a time."""
    total = sum(expected.values())
    quotas = {day: n * e / total for day, e in expected.items()}
    sizes = {day: math.floor(q) for day, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda day: (sizes[day] - quotas[day], day))
    for day in by_remainder[: n - sum(sizes.values())]:
        sizes[day] += 1
    return sizes


def _together(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of one shape as one (an empty one is left out: pandas warns about its dtypes)."""
    full = [f for f in frames if len(f)]
    return pd.concat(full, ignore_index=True) if len(full) > 1 else (full[0] if full else frames[-1])


def _compact(rows: pd.DataFrame) -> pd.DataFrame:
    kept = rows[[c for c in KEPT if c in rows.columns]].copy()
    for name in (*conditions.FEATURES, *rotation.FEATURES):
        kept[name] = kept[name].astype(np.float32)  # a condition's 7 digits are plenty
    return kept


def stream_window(
    store: ObjectStore,
    *,
    include_new: bool,
    start: date | None,
    end: date | None,
    budget: int,
    seed: int,
    sample: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Window:
    """The labelled flights of the window with their conditions, at most ``budget`` of them (a
    time-aware sample, see the module's docstring), read a day at a time; ``sample``: exactly that
    many of those, drawn uniformly, each day before its conditions are computed (the work is the
    sample's, not the window's)."""
    days = _Days(store, include_new=include_new, start=start, end=end)
    counts = {day: int(days.flights(day, ["arr_delay"])["arr_delay"].notna().sum()) for day in days.days}
    rates, whole, older_rate = plan(counts, budget)
    expected = {day: counts[day] * rates[day] for day in days.days}
    sizes = allocate(expected, sample) if sample is not None and sample < sum(expected.values()) else None
    if progress and older_rate < 1.0:
        progress(
            f"row budget {budget:,} of {sum(counts.values()):,} labelled flights: months "
            f"{whole[0] if whole else '-'}..{whole[-1] if whole else '-'} whole, older days sampled at "
            f"{older_rate:.3f} (FLIGHTDELAY_TRAIN_MAX_ROWS)"
        )
    kept: list[pd.DataFrame] = []
    read = unlabelled = 0
    previous: pd.DataFrame | None = None
    previous_day: date | None = None
    weather_of: dict[date, pd.DataFrame] = {}
    for day in days.days:
        flights = days.flights(day)
        read += len(flights)
        labelled = schema.labelled(flights)
        unlabelled += len(flights) - len(labelled)
        rng = np.random.default_rng([seed, day.toordinal()])
        if sizes is not None or rates[day] < 1.0:
            # The day's share of the sample, or of the budget (rounded up or down without bias).
            n = sizes[day] if sizes is not None else math.floor(len(labelled) * rates[day] + rng.random())
            labelled = labelled.iloc[np.sort(rng.choice(len(labelled), size=n, replace=False))]
        # Weather partitions are UTC days, flights local ones: a local day's flights are asked about
        # from the UTC day before (a horizon's hours earlier) to the one after (an evening in the west).
        wanted = [day + timedelta(days=k) for k in (-1, 0, 1)]
        weather_of = {d: weather_of[d] if d in weather_of else _observations(store, d) for d in wanted}
        weather = _together([weather_of[d] for d in wanted])
        adjacent = previous_day == day - timedelta(days=1)
        before = previous if adjacent and previous is not None else None
        departures = _together([before, flights[DEPARTURE_COLUMNS]]) if before is not None else flights
        if len(labelled):
            with_conditions = conditions.for_flights(
                labelled,
                weather,
                departures,
                conditions.draw_horizons(len(labelled), seed + day.toordinal()),
                departures_hidden=conditions.draw_departures_hidden(len(labelled), seed + day.toordinal()),
            )
            kept.append(_compact(with_conditions))
        previous, previous_day = flights[DEPARTURE_COLUMNS], day
    rows = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame({name: [] for name in KEPT})

    def views(valid: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """The validation rows seen from each horizon, with the conditions of their own days."""
        if valid.empty:
            return conditions.by_horizon(valid, empty_observations(), None)
        first, last = valid["flight_date"].min().date(), valid["flight_date"].max().date()
        span = [first - timedelta(days=1) + timedelta(days=i) for i in range((last - first).days + 3)]
        departures = _together([days.flights(d, DEPARTURE_COLUMNS) for d in span[:-1]])
        observations = _together([_observations(store, d) for d in span])
        return conditions.by_horizon(valid, observations, departures)

    return Window(
        rows=rows,
        rows_read=read,
        rows_unlabelled=unlabelled,
        rows_labelled=sum(counts.values()),
        sampled=older_rate < 1.0,
        months_whole=whole,
        older_rate=round(older_rate, 4),
        views=views,
    )
