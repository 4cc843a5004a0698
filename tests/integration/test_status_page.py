"""/status as a newcomer reads it: each stage's last run is the one that ran last, one time format
throughout, and the page says which "now" it shows (the wall clock and the conditions' clock)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from offline.aviationstack import ReplayServer
from services.api.status import gather, render
from services.conditions.run import run_conditions
from services.fetcher.fetch import new_run_id
from tests.factories import staged

DEC_9_NOON_NY = datetime(2013, 12, 9, 17, 0, tzinfo=UTC)
DEC_14_END = datetime(2013, 12, 14, 23, 59, tzinfo=UTC)
NOW = datetime(2026, 12, 3, 15, 0, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(clock=DEC_14_END) as server:
        yield server


def test_run_ids_started_in_the_same_second_sort_in_the_order_they_started() -> None:
    ids = [new_run_id() for _ in range(30)]  # far within one second
    assert sorted(ids) == ids


def test_the_train_row_names_the_newest_staged_model(tmp_path: Path) -> None:
    registry = Registry(LocalStore(tmp_path / "models"))
    models = staged(registry, 3)  # oldest first
    status = gather(registry, LocalStore(tmp_path / "data"), now=NOW)
    train = next(r for r in status.runs if r.stage == "train")
    assert train.detail == models[-1].version
    assert train.at == models[-1].created_at


def test_the_conditions_row_and_the_page_name_the_run_that_ran_last(
    replay: ReplayServer, tmp_path: Path
) -> None:
    data = LocalStore(tmp_path / "data")
    settings = get_settings(aviationweather_url=replay.weather_url, conditions_hours=3)
    # As the demo does: the whole fortnight's weather first, then the API's "now" set to Dec 9.
    run_conditions(settings, data, at=DEC_14_END)
    run_conditions(settings, data, at=DEC_9_NOON_NY)
    status = gather(Registry(LocalStore(tmp_path / "models")), data, now=NOW)
    conditions = next(r for r in status.runs if r.stage == "conditions")
    assert conditions.detail == "as_of 2013-12-09T17:00:00+00:00"
    assert status.conditions_as_of == DEC_9_NOON_NY
    page = render(status)
    assert "conditions as of 2013-12-09 17:00 UTC" in page
    assert "Built 2026-12-03 15:00:05 UTC" in page


def test_every_time_in_the_runs_table_reads_the_same_way(replay: ReplayServer, tmp_path: Path) -> None:
    data, registry = LocalStore(tmp_path / "data"), Registry(LocalStore(tmp_path / "models"))
    settings = get_settings(aviationweather_url=replay.weather_url, conditions_hours=3)
    run_conditions(settings, data, at=DEC_14_END)
    [model] = staged(registry, 1)
    registry.promote(model.version, reason="test", source="evaluator")
    page = render(gather(registry, data, now=NOW))
    table = page.split("Last run of each stage")[1]
    cells = re.findall(r"<tr><td>(\w+)</td><td>([^<]*)</td>", table)
    shown = {stage: at for stage, at in cells if at != "-"}
    assert set(shown) == {"conditions", "evaluate", "train"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", at) for at in shown.values()), shown
