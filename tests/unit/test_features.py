"""The one feature pipeline: batch equals single, unknowns are defined, nothing leaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flightdelay import schema
from flightdelay.features import FEATURES, INPUT_COLUMNS, FlightFeatures, days_to_holiday, feature_schema
from tests.factories import flights_slice


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return flights_slice("2013-01-01", "2013-02-28", every=4)


@pytest.fixture(scope="module")
def fitted(flights: pd.DataFrame) -> FlightFeatures:
    return FlightFeatures().fit(flights)


def test_feature_names_are_only_pre_departure_information() -> None:
    assert FEATURES == (
        "carrier",
        "origin",
        "dest",
        "route",
        "dep_hour",
        "arr_hour",
        "weekday",
        "distance_km",
        "block_minutes",
        "days_to_holiday",
        "origin_hour_departures",
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
        "prev_leg_left",
        "prev_leg_delay",
        "turnaround_minutes",
        "legs_before",
    )
    post_departure = {"dep_delay", "arr_delay", "actual_dep_utc", "actual_arr_utc", "status"}
    assert not post_departure & set(INPUT_COLUMNS)
    assert [c.name for c in feature_schema()] == list(FEATURES)


def test_features_ignore_post_departure_columns(flights: pd.DataFrame, fitted: FlightFeatures) -> None:
    scrambled = flights.copy()
    for column in ("dep_delay", "arr_delay", "actual_dep_utc", "actual_arr_utc", "status"):
        scrambled[column] = scrambled[column].sample(frac=1.0, random_state=1).to_numpy()
    np.testing.assert_array_equal(fitted.transform(flights), fitted.transform(scrambled))


def test_one_flight_alone_gets_the_same_features_as_in_a_batch(
    flights: pd.DataFrame, fitted: FlightFeatures
) -> None:
    batch = fitted.transform(flights)
    for i in (0, 17, len(flights) - 1):
        alone = fitted.transform(flights.iloc[[i]])
        np.testing.assert_array_equal(alone, batch[[i]])


def test_unknown_carrier_and_airports_get_missing_codes_not_errors(fitted: FlightFeatures) -> None:
    rows = schema.from_schedule(
        pd.DataFrame(
            {
                "carrier": ["ZZ", "B6"],
                "origin": ["QQQ", "JFK"],
                "dest": ["BOS", "XXX"],
                "sched_dep_local": pd.to_datetime(["2013-12-02 08:00", "2013-12-02 09:30"]),
            }
        )
    )
    features = pd.DataFrame(fitted.transform(rows), columns=list(FEATURES))
    assert np.isnan(features.loc[0, "carrier"])
    assert np.isnan(features.loc[0, "origin"])
    assert np.isnan(features.loc[0, "origin_hour_departures"])
    assert np.isnan(features.loc[1, "dest"])
    assert not np.isnan(features.loc[1, "carrier"])
    assert features.loc[1, "dep_hour"] == 9.5


def test_block_time_is_estimated_when_no_arrival_is_given(fitted: FlightFeatures) -> None:
    rows = schema.from_schedule(
        pd.DataFrame(
            {
                "carrier": ["AA"],
                "origin": ["JFK"],
                "dest": ["LAX"],
                "sched_dep_local": pd.to_datetime(["2013-12-02 08:00"]),
            }
        )
    )
    block = fitted.transform(rows)[0, FEATURES.index("block_minutes")]
    assert 300 < block < 360


def test_congestion_counts_scheduled_departures_per_day(
    flights: pd.DataFrame, fitted: FlightFeatures
) -> None:
    jfk = flights[(flights["origin"] == "JFK")]
    slot = jfk[(jfk["sched_dep_local"].dt.day_of_week == 0) & (jfk["sched_dep_local"].dt.hour == 8)]
    mondays = jfk[jfk["sched_dep_local"].dt.day_of_week == 0]["flight_date"].nunique()
    assert fitted.congestion_["JFK|0|8"] == pytest.approx(len(slot) / mondays)


def test_each_flight_gets_its_slots_congestion_even_after_a_refit(flights: pd.DataFrame) -> None:
    """transform reads the fitted table: the slot's rate for a known origin, 0 for an hour with no
    departures there, NaN for an unknown origin; refitting the same step reads the new table."""
    rows = schema.from_schedule(
        pd.DataFrame(
            {
                "carrier": ["B6", "B6", "B6"],
                "origin": ["JFK", "JFK", "QQQ"],
                "dest": ["BOS", "BOS", "BOS"],
                "sched_dep_local": pd.to_datetime(
                    ["2013-12-02 08:10", "2013-12-02 03:30", "2013-12-02 08:10"]
                ),
            }
        )
    )
    step = FlightFeatures()
    for data in (flights, flights[flights["sched_dep_local"].dt.hour != 8]):
        step.fit(data)
        congestion = step.transform(rows)[:, FEATURES.index("origin_hour_departures")]
        assert congestion[0] == step.congestion_.get("JFK|0|8", 0.0)
        assert congestion[1] == step.congestion_.get("JFK|0|3", 0.0) == 0.0
        assert np.isnan(congestion[2])
    assert congestion[0] == 0.0  # no 8 o'clock departures in the refitted data


def test_days_to_holiday_counts_both_directions() -> None:
    days = np.array(["2013-07-04", "2013-07-01", "2013-12-23", "2013-08-15"], dtype="datetime64[D]")
    assert days_to_holiday(days.astype(np.int64)).tolist() == [0.0, 3.0, 2.0, 10.0]
