"""Aviation Stack records → normalized rows: the time-zone rule, codeshares, delays, rejects."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from flightdelay.normalize import normalize


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "flight_date": "2013-12-03",
        "flight_status": "landed",
        "departure": {
            "iata": "JFK",
            "timezone": "America/New_York",
            "delay": None,
            "scheduled": "2013-12-03T08:00:00+00:00",
            "actual": "2013-12-03T08:05:00+00:00",
        },
        "arrival": {
            "iata": "LAX",
            "timezone": "America/Los_Angeles",
            "delay": None,
            "scheduled": "2013-12-03T11:30:00+00:00",
            "actual": "2013-12-03T11:52:00+00:00",
        },
        "airline": {"name": "American Airlines", "iata": "AA"},
        "flight": {"number": "1", "iata": "AA1", "codeshared": None},
    }
    for path, value in changes.items():
        target = base
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value
    return base


def test_times_are_local_to_each_airport_despite_the_offset() -> None:
    row = normalize([record()]).clean.iloc[0]
    assert row["sched_dep_utc"] == pd.Timestamp("2013-12-03 13:00", tz="UTC")
    assert row["sched_arr_utc"] == pd.Timestamp("2013-12-03 19:30", tz="UTC")
    assert row["sched_arr_local"] == pd.Timestamp("2013-12-03 11:30")


def test_arrival_delay_comes_from_actual_minus_scheduled_when_delay_is_null() -> None:
    row = normalize([record()]).clean.iloc[0]
    assert (row["arr_delay"], row["dep_delay"]) == (22.0, 5.0)


def test_the_providers_delay_is_used_when_given() -> None:
    row = normalize([record(arrival__delay=40)]).clean.iloc[0]
    assert row["arr_delay"] == 40.0


def test_cancelled_flights_are_kept_without_a_label() -> None:
    row = normalize([record(flight_status="cancelled", arrival__actual=None)]).clean.iloc[0]
    assert row["status"] == "cancelled"
    assert pd.isna(row["arr_delay"])


def test_a_codeshare_copy_is_dropped_in_favour_of_the_operating_flight() -> None:
    operating = record()
    marketing = copy.deepcopy(operating)
    marketing["airline"] = {"name": "British Airways", "iata": "BA"}
    marketing["flight"] = {
        "number": "6001",
        "iata": "BA6001",
        "codeshared": {"airline_iata": "aa", "flight_number": "1"},
    }
    result = normalize([marketing, operating])
    assert result.duplicates == 1
    assert result.clean[["carrier", "flight_number"]].values.tolist() == [["AA", "1"]]


def test_a_codeshare_alone_becomes_its_operating_flight() -> None:
    marketing = record(
        flight={"number": "6001", "codeshared": {"airline_iata": "aa", "flight_number": "1"}},
        airline={"iata": "BA"},
    )
    row = normalize([marketing]).clean.iloc[0]
    assert (row["carrier"], row["flight_number"]) == ("AA", "1")


def test_invalid_records_are_rejected_with_a_reason() -> None:
    result = normalize(
        [
            record(departure__iata=None),
            record(arrival__timezone="Not/AZone"),
            record(airline__iata="AAA"),
            record(flight_date="2013-12-04"),
            record(),
        ],
        day="2013-12-03",
    )
    assert len(result.clean) == 1
    assert result.rejected["reason"].tolist() == [
        "origin: missing",
        "sched_arr_utc: missing",
        "carrier: AAA is not a 2-character IATA airline code",
        "flight_date: not the requested day 2013-12-03",
    ]


def test_the_aircraft_registration_and_icao24_are_kept_and_null_where_the_provider_has_none() -> None:
    given = record(aircraft={"registration": " n14228 ", "iata": "B738", "icao": "B738", "icao24": "a0f1bb"})
    later = record(flight__number="2", flight__iata="AA2", aircraft=None)
    clean = normalize([given, later]).clean.set_index("flight_number")
    assert clean.loc["1", "tail_number"] == "N14228"
    assert clean.loc["1", "icao24"] == "A0F1BB"
    assert clean.loc["2", "tail_number"] is None
    assert clean.loc["2", "icao24"] is None
