"""Training's window read as a stream within a row budget (training/window.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from flightdelay import conditions, datasets, layout, rotation, schema
from flightdelay.partitions import to_parquet_bytes, write_observations
from flightdelay.storage import LocalStore
from tests.factories import flights_slice, write_days
from training.window import KEPT, allocate, plan, stream_window


def days(start: str, n: int, per_day: int) -> dict[date, int]:
    first = date.fromisoformat(start)
    return {first + timedelta(days=i): per_day for i in range(n)}


def test_a_window_within_the_budget_is_kept_whole() -> None:
    rates, whole, rate = plan(days("2019-01-01", 90, 100), budget=9000)
    assert set(rates.values()) == {1.0}
    assert (whole, rate) == ([], 1.0)


def test_past_the_budget_the_latest_months_are_whole_and_the_older_ones_sampled_to_fill_it() -> None:
    counts = days("2018-01-01", 365, 100)  # 36,500 flights, 2018
    rates, whole, rate = plan(counts, budget=10_000)
    assert whole == ["2018-12"]  # December's 3,100, then November's 3,000 would pass half the budget
    kept = sum(n * rates[d] for d, n in counts.items())
    assert kept == pytest.approx(10_000)
    assert rates[date(2018, 12, 31)] == 1.0
    assert rates[date(2018, 1, 1)] == rate == pytest.approx((10_000 - 3_100) / 33_400)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalStore, pd.DataFrame]:
    store = LocalStore(tmp_path_factory.mktemp("data"))
    flights = flights_slice("2013-01-01", "2013-04-30", every=20)
    write_days(store, layout.TRAINING, flights)
    weather = datasets.load_weather()
    weather = weather[weather["obs_utc"] < pd.Timestamp("2013-05-01", tz="UTC")]
    for day, rows in weather.groupby(weather["obs_utc"].dt.date):
        write_observations(store, day, rows)
    return store, flights


def test_the_stream_keeps_at_most_the_budget_with_the_latest_month_whole(
    history: tuple[LocalStore, pd.DataFrame],
) -> None:
    store, flights = history
    labelled = schema.labelled(flights)
    april = int((labelled["flight_date"].dt.month == 4).sum())
    budget = int(len(labelled) * 0.6)
    window = stream_window(store, include_new=False, start=None, end=None, budget=budget, seed=1)
    assert window.sampled
    assert window.months_whole == ["2013-04"]
    assert abs(len(window.rows) - budget) <= 50  # each day rounds its share up or down
    assert int((window.rows["flight_date"].dt.month == 4).sum()) == april
    assert list(window.rows.columns) == list(KEPT)
    assert (window.rows_read, window.rows_labelled) == (len(flights), len(labelled))


def test_a_sample_shares_exactly_n_among_the_days_in_proportion() -> None:
    expected = {**days("2019-01-01", 3, 100), date(2019, 1, 4): 0, date(2019, 1, 5): 50.5}
    sizes = allocate(expected, 101)
    assert sum(sizes.values()) == 101
    assert sizes[date(2019, 1, 4)] == 0
    assert all(abs(sizes[d] - 101 * e / 350.5) < 1 for d, e in expected.items())
    assert allocate(expected, 101) == sizes  # no randomness in who gets the remainder


def test_a_sample_is_drawn_in_the_stream_exactly_n_flights_from_every_day(
    history: tuple[LocalStore, pd.DataFrame],
) -> None:
    store, flights = history
    april = (date(2013, 4, 1), date(2013, 4, 30))
    flights = flights[flights["flight_date"] >= "2013-04-01"]
    labelled = schema.labelled(flights)
    n = len(labelled) // 4
    window = stream_window(
        store, include_new=False, start=april[0], end=april[1], budget=10**9, seed=1, sample=n
    )
    assert len(window.rows) == n
    assert (window.rows_read, window.rows_labelled) == (len(flights), len(labelled))
    per_day = window.rows.groupby(window.rows["flight_date"].dt.date).size()
    whole = labelled.groupby(labelled["flight_date"].dt.date).size()
    assert ((per_day - whole[per_day.index] / 4).abs() < 1).all()
    keys = ["carrier", "origin", "dest", "sched_dep_utc", "tail_number"]
    drawn = pd.MultiIndex.from_frame(window.rows[keys])
    assert drawn.isin(pd.MultiIndex.from_frame(labelled[keys])).all()  # real flights, each once
    assert not drawn.duplicated().any()
    again = stream_window(
        store, include_new=False, start=april[0], end=april[1], budget=10**9, seed=1, sample=n
    )
    pd.testing.assert_frame_equal(again.rows, window.rows)


def test_each_flight_sees_the_conditions_the_whole_table_would_give_it(
    history: tuple[LocalStore, pd.DataFrame],
) -> None:
    store, flights = history
    window = stream_window(store, include_new=False, start=None, end=None, budget=10**9, seed=3)
    rows = window.rows
    assert len(rows) == len(schema.labelled(flights))
    hours = rows["hours_ahead"].to_numpy()
    # The same flights asked at the same horizons of the whole history at once: the same answers,
    # across midnight too (a day's first flights look at the day before).
    whole = conditions.for_flights(rows, datasets.load_weather(), flights, hours)
    seen = rows["hours_ahead"].notna() & rows["recent_departures"].notna()
    assert seen.sum() > 1000
    # The aircraft's previous flight too: the window keeps its inputs and reads its legs.
    assert rows.loc[seen, "legs_before"].notna().all()
    for name in ("temp_c", "visib_mi", "recent_departures", *rotation.FEATURES):
        pd.testing.assert_series_equal(
            rows.loc[seen, name].astype(float), whole.loc[seen, name].astype(float), check_names=False
        )


def test_a_day_in_both_training_and_fetched_counts_once(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    flights = flights_slice("2013-03-01", "2013-03-02", every=5)
    write_days(store, layout.TRAINING, flights)
    write_days(store, layout.NEW_CLEAN, flights)
    window = stream_window(store, include_new=True, start=None, end=None, budget=10**9, seed=1)
    assert window.rows_read == len(flights)


def test_training_and_its_validation_views_see_the_aircraft_and_an_older_partition_reads_as_unknown(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path)
    flights = flights_slice("2013-05-01", "2013-05-03", every=1)
    write_days(store, layout.TRAINING, flights[flights["flight_date"] < "2013-05-03"])
    # A day written before tail_number was in the schema (its parquet has no such column).
    older = flights[flights["flight_date"] == "2013-05-03"]
    store.put(
        layout.partition_key(layout.TRAINING, date(2013, 5, 3)),
        to_parquet_bytes(schema.conform(older).drop(columns=["tail_number", "icao24"])),
    )
    window = stream_window(store, include_new=False, start=None, end=None, budget=10**9, seed=5)
    rows = window.rows
    recent = rows["flight_date"] < "2013-05-03"
    # Inputs a model can learn from: the previous flight's delay varies where it is known.
    assert rows.loc[recent, "prev_leg_delay"].notna().sum() > 100
    assert rows.loc[recent, "prev_leg_delay"].nunique() > 10
    assert rows.loc[~recent, list(rotation.FEATURES)].isna().all().all()
    views = window.views(rows[recent])
    at_2h = views[conditions.horizon_name(2.0)]
    whole = conditions.by_horizon(rows[recent], datasets.load_weather(), flights)[
        conditions.horizon_name(2.0)
    ]
    assert at_2h["prev_leg_delay"].notna().sum() > 100
    pd.testing.assert_series_equal(at_2h["prev_leg_delay"], whole["prev_leg_delay"])
