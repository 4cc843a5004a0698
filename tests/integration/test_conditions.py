"""The conditions stage against the replayed METAR API over real HTTP, and the API serving with
the conditions it publishes (a real uvicorn)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from flightdelay import conditions, datasets, layout
from flightdelay.config import Settings, get_settings
from flightdelay.errors import ConfigError, FetchError
from flightdelay.partitions import read_observations
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from offline.aviationstack import ReplayServer
from services.api.app import create_app
from services.api.server import RunningServer
from services.conditions.run import run_conditions
from tests.factories import BASE_TIME, stage_model

CLOCK = datetime(2013, 12, 2, 19, 0, tzinfo=UTC)  # 14:00 in New York


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(clock=CLOCK) as server:
        yield server


@pytest.fixture
def server(replay: ReplayServer) -> ReplayServer:
    replay.faults.clear()
    replay.clock = CLOCK
    replay.requests = 0
    return replay


def settings_for(server: ReplayServer, **overrides: object) -> Settings:
    fields: dict[str, object] = {
        "aviationweather_url": server.weather_url,
        "fetch_backoff_seconds": 0.01,
        "fetch_max_attempts": 3,
        "fetch_timeout_seconds": 2.0,
        "conditions_hours": 6,
    }
    return get_settings(**(fields | overrides))


def test_a_run_keeps_the_observations_and_publishes_what_is_known_now(
    server: ReplayServer, tmp_path: Path
) -> None:
    data = LocalStore(tmp_path)
    summary = run_conditions(settings_for(server), data, at=CLOCK)
    assert summary["status"] == "succeeded"
    assert summary["stations"] == ["KEWR", "KJFK", "KLGA"]
    kept = read_observations(data)
    assert len(kept) == summary["observations"] == 18  # 6 hourly reports at 3 airports
    assert kept["obs_utc"].max() <= pd.Timestamp(CLOCK)
    state = conditions.Snapshot.model_validate_json(data.get(layout.latest_conditions()).data)
    assert state.as_of == CLOCK
    truth = datasets.load_weather().set_index(["airport", "obs_utc"]).loc[("JFK", pd.Timestamp(CLOCK))]
    assert state.airports["JFK"]["temp_c"] == pytest.approx(truth["temp_c"])
    assert state.airports["JFK"]["wind_kt"] == pytest.approx(truth["wind_kt"])
    assert state.sources == {"weather": server.weather_url.split("/")[2], "departures": "off"}


def test_a_second_run_adds_only_what_is_new(server: ReplayServer, tmp_path: Path) -> None:
    data = LocalStore(tmp_path)
    run_conditions(settings_for(server), data, at=CLOCK)
    server.clock = CLOCK + timedelta(hours=2)
    run_conditions(settings_for(server), data, at=server.clock)
    kept = read_observations(data)
    assert not kept.duplicated(["airport", "obs_utc"]).any()
    assert len(kept) == 24  # 8 distinct hours at 3 airports


def test_rate_limits_and_a_broken_answer_are_retried(server: ReplayServer, tmp_path: Path) -> None:
    server.add_faults("rate_limit", "malformed")
    summary = run_conditions(settings_for(server), LocalStore(tmp_path), at=CLOCK)
    assert summary["status"] == "succeeded"
    assert summary["requests"] == 3


def test_a_provider_that_keeps_failing_ends_the_run_with_a_clear_error_and_a_summary(
    server: ReplayServer, tmp_path: Path
) -> None:
    server.add_faults("server_error", "server_error", "server_error")
    data = LocalStore(tmp_path)
    with pytest.raises(
        FetchError, match=r"gave up on the METAR API after 3 attempt\(s\): METAR API answered 500"
    ):
        run_conditions(settings_for(server), data, at=CLOCK)
    assert not data.exists(layout.latest_conditions())  # nothing half-published
    [run] = data.list("conditions/runs/")
    assert b'"status": "failed"' in data.get(run).data


def test_hours_with_no_observation_give_unknown_weather_not_an_error(
    server: ReplayServer, tmp_path: Path
) -> None:
    server.clock = datetime(2014, 3, 1, tzinfo=UTC)  # after the replayed year: the API answers 204
    data = LocalStore(tmp_path)
    summary = run_conditions(settings_for(server), data, at=server.clock)
    assert summary["observations"] == 0
    state = conditions.Snapshot.model_validate_json(data.get(layout.latest_conditions()).data)
    assert all(values["temp_c"] is None for values in state.airports.values())


def test_a_request_the_api_refuses_is_not_retried(server: ReplayServer, tmp_path: Path) -> None:
    settings = settings_for(server, aviationweather_url=server.weather_url + "/nowhere")
    with pytest.raises(FetchError, match=r"refused the request \(404\)"):
        run_conditions(settings, LocalStore(tmp_path), at=CLOCK)
    assert server.requests == 1


# --- the API with conditions --------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(shared_models: Callable[[str], Any]) -> Any:
    return shared_models("hgb_conditions")  # fitted as training sees flights: conditions known for some


def test_the_api_uses_the_published_conditions_exactly_as_training_looks_them_up(
    server: ReplayServer, tmp_path: Path, model: Any
) -> None:
    data, models = LocalStore(tmp_path / "data"), Registry(LocalStore(tmp_path / "models"))
    run_conditions(settings_for(server), data, at=CLOCK)
    version = stage_model(models, model, now=BASE_TIME).version
    models.promote(version, reason="test")
    day = datasets.load_flights(date(2013, 12, 2), date(2013, 12, 2))
    later = day[(day["sched_dep_utc"] > pd.Timestamp(CLOCK)) & (day["origin"] == "JFK")]
    near = later[later["sched_dep_utc"] <= pd.Timestamp(CLOCK) + pd.Timedelta(hours=5)].head(20)
    far = later[later["sched_dep_utc"] > pd.Timestamp(CLOCK) + pd.Timedelta(hours=7)].head(5)
    settings = get_settings(models_url=str(tmp_path / "models"), data_url=str(tmp_path / "data"))
    with RunningServer(create_app(settings)) as api:
        body = httpx.post(
            f"{api.url}/predict",
            json={
                "flights": [
                    {
                        "carrier": r.carrier,
                        "origin": r.origin,
                        "dest": r.dest,
                        "scheduled_departure": r.sched_dep_local.isoformat(),
                        "scheduled_arrival": r.sched_arr_local.isoformat(),
                    }
                    for r in pd.concat([near, far]).itertuples()
                ]
            },
        ).json()
    answers = body["predictions"]
    hours = ((near["sched_dep_utc"] - pd.Timestamp(CLOCK)).dt.total_seconds() / 3600).to_numpy()
    # Training's path: the same flights, seen `hours` before departure, from the stored weather.
    expected = model.predict_proba(conditions.for_flights(near, read_observations(data), None, hours))[:, 1]
    np.testing.assert_allclose([a["probability"] for a in answers[: len(near)]], expected, atol=6e-5)
    first = answers[0]["conditions"]
    assert first["known_at"].startswith("2013-12-02T19:00:00")
    assert first["hours_ahead"] == pytest.approx(hours[0], abs=0.01)
    assert first["weather_age_minutes"] == 0.0
    assert first["departures"] is False  # not collected live: the snapshot says "off"
    # Seven hours and more ahead: the timetable alone, as for a flight days away.
    assert all(a["conditions"]["known_at"] is None for a in answers[len(near) :])
    unknown = model.predict_proba(
        conditions.for_flights(far, read_observations(data), None, np.full(len(far), np.nan))
    )
    np.testing.assert_allclose([a["probability"] for a in answers[len(near) :]], unknown[:, 1], atol=6e-5)


def test_an_unreadable_conditions_file_leaves_the_api_answering_without_conditions(
    tmp_path: Path, model: Any
) -> None:
    data, models = LocalStore(tmp_path / "data"), Registry(LocalStore(tmp_path / "models"))
    data.put(layout.latest_conditions(), b'{"as_of": "not a time", "airports": []}')
    version = stage_model(models, model, now=BASE_TIME).version
    models.promote(version, reason="test")
    settings = get_settings(models_url=str(tmp_path / "models"), data_url=str(tmp_path / "data"))
    flight = {"carrier": "B6", "origin": "JFK", "dest": "BOS", "scheduled_departure": "2013-12-02T16:00:00"}
    with RunningServer(create_app(settings)) as api:
        response = httpx.post(f"{api.url}/predict", json=flight)
    assert response.status_code == 200
    assert response.json()["conditions"]["known_at"] is None


def test_with_departures_on_the_snapshot_knows_them_as_they_stood_at_the_clock(
    server: ReplayServer, tmp_path: Path
) -> None:
    settings = settings_for(
        server, conditions_departures=True, aviationstack_url=server.url, aviationstack_key=server.key
    )
    data = LocalStore(tmp_path)
    summary = run_conditions(settings, data, at=CLOCK)
    assert summary["departures"] > 0
    state = conditions.Snapshot.model_validate_json(data.get(layout.latest_conditions()).data)
    assert state.sources["departures"] == server.url.split("/")[2]
    # What the real-time list said at 14:00 in New York is what the flights' own record gives
    # when read as known then: the replay hides every later departure, and so must the lookup.
    truth = datasets.load_flights(date(2013, 12, 2), date(2013, 12, 2))
    at = np.array([np.datetime64(CLOCK.replace(tzinfo=None), "m")] * 3)
    expected = conditions.departures_at(truth, np.array(["EWR", "JFK", "LGA"], dtype=object), at)
    for i, airport in enumerate(["EWR", "JFK", "LGA"]):
        assert state.airports[airport]["recent_departures"] == expected["recent_departures"][i] > 10
        assert state.airports[airport]["recent_late_share"] == pytest.approx(
            expected["recent_late_share"][i], abs=1e-3
        )
        assert state.airports[airport]["recent_mean_delay"] == pytest.approx(
            expected["recent_mean_delay"][i], abs=1e-3
        )


def test_departures_on_without_a_key_is_a_configuration_error(server: ReplayServer, tmp_path: Path) -> None:
    settings = settings_for(server, conditions_departures=True, aviationstack_url=server.url)
    with pytest.raises(ConfigError, match="FLIGHTDELAY_AVIATIONSTACK_KEY"):
        run_conditions(settings, LocalStore(tmp_path), at=CLOCK)


def test_the_api_names_the_aircraft_and_its_previous_flight_as_training_sees_them(
    server: ReplayServer, tmp_path: Path, model: Any
) -> None:
    settings = settings_for(
        server, conditions_departures=True, aviationstack_url=server.url, aviationstack_key=server.key
    )
    data, models = LocalStore(tmp_path / "data"), Registry(LocalStore(tmp_path / "models"))
    run_conditions(settings, data, at=CLOCK)
    state = conditions.Snapshot.model_validate_json(data.get(layout.latest_conditions()).data)
    assert state.aircraft
    assert all(leg.actual_dep_utc is None or leg.actual_dep_utc <= CLOCK for leg in state.aircraft)
    version = stage_model(models, model, now=BASE_TIME).version
    models.promote(version, reason="test")
    truth = datasets.load_flights(date(2013, 12, 2), date(2013, 12, 2))
    ahead = truth[
        (truth["sched_dep_utc"] > pd.Timestamp(CLOCK))
        & (truth["sched_dep_utc"] <= pd.Timestamp(CLOCK) + pd.Timedelta(hours=5))
        & truth["tail_number"].notna()
    ]
    # Aircraft that flew from New York earlier that day: their previous flight is known.
    earlier = set(truth.loc[truth["sched_dep_utc"] < pd.Timestamp(CLOCK), "tail_number"])
    asked = ahead[ahead["tail_number"].isin(earlier)].head(15)
    flights = [
        {
            "carrier": r.carrier,
            "flight_number": r.flight_number,
            "origin": r.origin,
            "dest": r.dest,
            "scheduled_departure": r.sched_dep_local.isoformat(),
            "scheduled_arrival": r.sched_arr_local.isoformat(),
        }
        for r in asked.itertuples()
    ]
    flights[1] = {**flights[1], "tail_number": asked.iloc[1]["tail_number"].lower()}
    flights[2] = {**flights[2], "flight_number": "9999"}  # no such flight: the aircraft is unknown
    api_settings = get_settings(models_url=str(tmp_path / "models"), data_url=str(tmp_path / "data"))
    with RunningServer(create_app(api_settings)) as api:
        response = httpx.post(f"{api.url}/predict", json={"flights": flights})
    assert response.status_code == 200
    answers = response.json()["predictions"]
    hours = ((asked["sched_dep_utc"] - pd.Timestamp(CLOCK)).dt.total_seconds() / 3600).to_numpy()
    # Training's path: the same flights seen `hours` before departure, the aircraft from the day's table.
    seen = conditions.for_flights(asked, read_observations(data), truth, hours)
    for name in conditions.DEPARTURE_FEATURES:  # as published: rounded to 3 decimals
        seen[name] = [state.airports[origin][name] for origin in asked["origin"]]
    expected = model.predict_proba(seen)[:, 1]
    known = [i for i in range(len(asked)) if i != 2]
    np.testing.assert_allclose([answers[i]["probability"] for i in known], expected[known], atol=6e-5)
    first = answers[0]["aircraft"]
    assert first["tail_number"] == asked.iloc[0]["tail_number"]
    assert first["found_by"] == "schedule"
    assert first["previous_flight"]["origin"] in {"EWR", "JFK", "LGA"}
    assert first["summary"].startswith(f"{asked.iloc[0]['tail_number']} ")
    assert "turn around" in first["summary"] or "after this departure" in first["summary"]
    assert first["recommendation"]
    assert answers[1]["aircraft"]["found_by"] == "given"
    assert answers[1]["aircraft"]["tail_number"] == asked.iloc[1]["tail_number"]
    unknown = answers[2]["aircraft"]
    assert unknown["tail_number"] is None
    assert unknown["previous_flight"] is None
    assert "unknown" in unknown["summary"]
