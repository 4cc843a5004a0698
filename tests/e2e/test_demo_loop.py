"""The whole loop, as `make demo` runs it, on a small training sample: every step's real outcome."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cli.demo import ASKED_AT, FETCH_DAYS, QUESTIONS, run
from flightdelay import conditions, datasets, layout
from flightdelay.config import get_settings
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore


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
    }
    models = LocalStore(tmp_path / "models")
    assert models.get("latest.txt").data.decode() == f"prod/{result.first}/model.skops"
    verdicts = [(d.verdict, d.version) for d in Registry(models).decisions()]
    assert verdicts == [
        ("rolled_back", result.first),
        ("promoted", result.second),
        ("promoted", result.first),
    ]
    for key in result.decisions:
        assert json.loads(models.get(key).data)["version"] in (result.first, result.second)
    for key in result.reports:
        report = models.get(key).data.decode()
        assert "PROMOTED" in report
        assert "Seen from each horizon" in report

    # The conditions stage kept December's replayed weather and published noon on December 9;
    # every question about that afternoon was answered knowing it.
    assert len([k for k in data.list("conditions/weather/") if k.endswith(".parquet")]) >= 14
    state = conditions.Snapshot.model_validate_json(data.get(layout.latest_conditions()).data)
    assert state.as_of == ASKED_AT
    assert all(values["temp_c"] is not None for values in state.airports.values())
    answered = [line for line in lines if "P(15+ min late)" in line]
    assert len(answered) == len(QUESTIONS)
    assert all("h ahead" in line for line in answered)
    assert any(line.startswith("9/9 Done") for line in lines)
