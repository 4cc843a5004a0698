"""The whole loop, as `make demo` runs it, on a small training sample: every step's real outcome."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from cli.demo import ASKED_AT, FETCH_DAYS, QUESTIONS, WATCH_DAYS, run
from flightdelay import answers, conditions, datasets, layout, schema
from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore
from services.api.app import create_app
from services.api.server import RunningServer


@pytest.mark.slow
def test_the_demo_loop_end_to_end(tmp_path: Path) -> None:
    settings = get_settings(
        data_url=str(tmp_path / "data"),
        models_url=str(tmp_path / "models"),
        # A lenient policy, so both verdicts are known in advance on an 8,000-flight sample.
        eval_min_roc_auc=0.5,
        eval_margin=0.5,
        eval_bootstrap_resamples=200,
    )
    lines: list[str] = []
    result = run(settings, say=lines.append, sample=8_000)

    december = datasets.load_flights(date(2013, 12, 1), date(2013, 12, 14))
    expected = december.groupby(december["flight_date"].dt.date).size()
    assert result.clean_rows == {d.isoformat(): int(expected[d]) for d in FETCH_DAYS}
    data = LocalStore(tmp_path / "data")
    assert len([k for k in data.list("new/clean/") if k.endswith(".parquet")]) == 14

    assert (result.first_verdict, result.second_verdict) == ("promoted", "promoted")
    assert result.api_versions == {
        "first": result.first,
        "after_promotion": result.second,
        "after_rollback": result.first,
        "after_forward": result.second,
    }
    models = LocalStore(tmp_path / "models")
    # The demo leaves the better model live: forward again after showing the rollback.
    assert models.get("latest.txt").data.decode() == f"prod/{result.second}/model.skops"
    assert result.live_after == result.second
    verdicts = [(d.verdict, d.version) for d in Registry(models).decisions()]
    assert verdicts == [
        ("rolled_forward", result.second),
        ("rolled_back", result.first),
        ("promoted", result.second),
        ("promoted", result.first),
    ]
    for key in result.decisions:
        assert json.loads(models.get(key).data)["version"] in (result.first, result.second)
    switches = 0
    for key in result.reports:
        report = models.get(key).data.decode()
        if "ROLLED BACK" in report or "ROLLED FORWARD" in report:  # switches by hand get a report too
            assert "by hand (demo)" in report
            switches += 1
            continue
        assert "PROMOTED" in report
        assert "Seen from each horizon" in report
    assert switches == 2

    # The conditions stage kept December's replayed weather and published noon on December 9;
    # every question about that afternoon was answered knowing it.
    assert len([k for k in data.list("conditions/weather/") if k.endswith(".parquet")]) >= 14
    state = conditions.Snapshot.model_validate_json(data.get(layout.latest_conditions()).data)
    assert state.as_of == ASKED_AT
    assert all(values["temp_c"] is not None for values in state.airports.values())
    answered = [line for line in lines if "P(15+ min late)" in line]
    assert len(answered) == len(QUESTIONS)
    assert all("h ahead" in line for line in answered)
    assert any(line.startswith("10/10 Done") for line in lines)

    # The API logged its answers about every flight of December 8–14, and the watch judged the
    # first model (live when it answered) on each of those days against what happened.
    week = datasets.load_flights(WATCH_DAYS[0], WATCH_DAYS[-1])
    assert sum(len(answers.read(data, day)) for day in WATCH_DAYS) >= len(week)
    watched = {m.day: m for m in Registry(models).monitoring()}
    assert sorted(watched) == WATCH_DAYS
    for day in WATCH_DAYS:
        record = watched[day]
        outcomes = schema.labelled(week[week["flight_date"].dt.date == day]).drop_duplicates(
            answers.JOIN_KEY, keep=False
        )
        assert record.model_version == result.first
        assert record.quality is not None
        assert record.quality.flights == len(outcomes)
        assert record.quality.late_share == pytest.approx(schema.target(outcomes).mean(), abs=1e-4)
    drift = watched[WATCH_DAYS[-1]].drift
    assert drift is not None
    assert drift.drifted  # December 8–14 is far later than January–November
    assert any(line.startswith("    Dec 14:") and "ROC-AUC" in line for line in lines)

    # After the demo, the status page shows the days it served: live quality and drift.
    with RunningServer(create_app(settings)) as api:
        status = httpx.get(f"{api.url}/status.json").json()
        page = httpx.get(f"{api.url}/status").text
        # Every decision's report opens from the status page, the switches made by hand too.
        links = [d["report_url"] for d in status["decisions"]]
        assert len(links) == 4
        assert all(link and httpx.get(f"{api.url}{link}").status_code == 200 for link in links)
    assert [q["day"] for q in status["quality"]] == [d.isoformat() for d in WATCH_DAYS]
    last = watched[WATCH_DAYS[-1]].quality
    assert last is not None
    assert status["quality"][-1]["roc_auc"] == last.roc_auc
    assert status["drift"]["drifted"] is True
    assert status["live"]["version"] == result.second
    assert page.count('class="auc"') >= len(WATCH_DAYS)  # a point a day on the plot
