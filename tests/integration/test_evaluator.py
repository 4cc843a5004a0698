"""The evaluator: every verdict of the policy (on the local store: a verdict does not depend on the
backend), and on both backends the promotion itself, races, conflicts, rollback and reports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flightdelay import datasets, schema
from flightdelay.config import Settings, get_settings
from flightdelay.registry import Registry
from flightdelay.scoring import paired_bootstrap_auc_difference, scores
from flightdelay.storage import LocalStore, ObjectStore
from services.evaluator.evaluate import evaluate
from tests.conftest import on_the_local_store
from tests.factories import BASE_TIME, TEST_TYPES, NoisyModel, stage_model, write_days

END = date(2013, 12, 7)


@pytest.fixture(scope="module")
def good_model(shared_models: Callable[[str], Any]) -> Any:
    return shared_models("hgb")


@pytest.fixture(scope="module")
def december_week() -> pd.DataFrame:
    return datasets.load_flights(date(2013, 12, 1), END)


@pytest.fixture
def data(store: ObjectStore, december_week: pd.DataFrame) -> ObjectStore:
    write_days(store, "new/clean", december_week)
    return store


def settings(**overrides: Any) -> Settings:
    fields: dict[str, Any] = {"eval_min_roc_auc": 0.5, "eval_bootstrap_resamples": 100}  # the least allowed
    fields.update(overrides)
    return get_settings(**fields)


def at(minutes: int) -> Any:
    return BASE_TIME + timedelta(minutes=minutes)


def run(data: ObjectStore, **kwargs: Any) -> Any:
    return evaluate(
        kwargs.pop("settings", None) or settings(),
        data,
        Registry(data, extra_trusted_types=TEST_TYPES),
        end=END,
        **kwargs,
    )


def test_first_candidate_is_promoted_when_nothing_is_live(data: ObjectStore, good_model: Any) -> None:
    m = stage_model(Registry(data, extra_trusted_types=TEST_TYPES), good_model, now=at(0))
    outcome = run(data)
    assert outcome.verdict == "promoted"
    assert "no model is live" in outcome.reason
    assert data.get("latest.txt").data.decode() == f"prod/{m.version}/model.skops"
    assert outcome.evaluation is not None
    assert outcome.evaluation.window.rows > 5000
    report = data.get(outcome.decision.report_key).data.decode()
    assert "PROMOTED" in report
    assert m.version in report


@on_the_local_store
def test_a_better_candidate_is_promoted(data: ObjectStore, good_model: Any) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    weak = stage_model(registry, NoisyModel(good_model, 0.7), now=at(0))
    registry.promote(weak.version, reason="setup")
    strong = stage_model(registry, good_model, now=at(1))
    outcome = run(data)
    assert outcome.verdict == "promoted"
    assert outcome.evaluation is not None
    assert outcome.evaluation.comparison is not None
    assert outcome.evaluation.comparison.ci_low > 0
    assert registry.live_version() == strong.version


@on_the_local_store
def test_a_worse_candidate_is_rejected_and_live_is_unchanged(data: ObjectStore, good_model: Any) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    strong = stage_model(registry, good_model, now=at(0))
    registry.promote(strong.version, reason="setup")
    before = data.get("latest.txt").etag
    stage_model(registry, NoisyModel(good_model, 0.4), now=at(1))
    outcome = run(data)
    assert outcome.verdict == "rejected"
    assert "may be worse than the live model" in outcome.reason
    assert data.get("latest.txt").etag == before
    assert outcome.decision.verdict == "rejected"
    assert "REJECTED" in data.get(outcome.decision.report_key).data.decode()


@on_the_local_store
def test_an_equal_candidate_is_promoted_as_the_policy_says(data: ObjectStore, good_model: Any) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    first = stage_model(registry, good_model, now=at(0))
    registry.promote(first.version, reason="setup")
    twin = stage_model(registry, good_model, now=at(1))  # the same bytes, a later version
    outcome = run(data)
    assert outcome.evaluation is not None
    assert outcome.evaluation.comparison is not None
    comparison = outcome.evaluation.comparison
    assert (comparison.difference, comparison.ci_low, comparison.ci_high) == (0.0, 0.0, 0.0)
    assert outcome.verdict == "promoted"  # not worse: lower bound 0 >= -margin
    assert registry.live_version() == twin.version


@on_the_local_store
def test_too_little_data_gives_no_decision_and_changes_nothing(data: ObjectStore, good_model: Any) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    m = stage_model(registry, good_model, now=at(0))
    outcome = run(data, settings=settings(eval_min_rows=100_000))
    assert outcome.verdict == "no_decision"
    assert registry.live_version() is None
    assert registry.decisions()[0].verdict == "no_decision"
    assert run(data).candidate == m.version  # still waiting for a verdict


@on_the_local_store
def test_a_candidate_below_the_bar_is_rejected(data: ObjectStore, good_model: Any) -> None:
    stage_model(Registry(data, extra_trusted_types=TEST_TYPES), good_model, now=at(0))
    outcome = run(data, settings=settings(eval_min_roc_auc=0.95))
    assert outcome.verdict == "rejected"
    assert "below the bar 0.95" in outcome.reason


def test_a_tampered_candidate_is_rejected(data: ObjectStore, good_model: Any) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    m = stage_model(registry, good_model, now=at(0))
    data.put(f"staging/{m.version}/model.skops", b"tampered" * 100)
    outcome = run(data)
    assert outcome.verdict == "rejected"
    assert "failed verification" in outcome.reason
    assert registry.live_version() is None


@on_the_local_store
def test_nothing_to_evaluate_when_every_candidate_has_a_verdict(data: ObjectStore, good_model: Any) -> None:
    stage_model(Registry(data, extra_trusted_types=TEST_TYPES), good_model, now=at(0))
    assert run(data).verdict == "promoted"
    assert run(data).verdict == "nothing_to_evaluate"


def test_two_evaluators_promoting_at_once_switch_latest_exactly_once(
    data: ObjectStore, good_model: Any
) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    base = stage_model(registry, NoisyModel(good_model, 0.7), now=at(0))
    registry.promote(base.version, reason="setup")
    a = stage_model(registry, good_model, now=at(1))
    b = stage_model(registry, NoisyModel(good_model, 0.05), now=at(2))
    barrier = threading.Barrier(2)

    def evaluator(version: str) -> Any:
        mine = Registry(data, extra_trusted_types=TEST_TYPES)
        original = mine._switch

        def switch_after_both_decided(*args: Any) -> None:
            barrier.wait(timeout=60)
            original(*args)

        mine._switch = switch_after_both_decided  # type: ignore[method-assign,assignment]  # a test seam: hold both promoters at the switch
        return evaluate(settings(), data, mine, candidate=version, end=END)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(evaluator, [a.version, b.version]))
    assert sorted(o.verdict for o in outcomes) == ["failed", "promoted"]
    winner = next(o for o in outcomes if o.verdict == "promoted")
    loser = next(o for o in outcomes if o.verdict == "failed")
    assert registry.live_version() == winner.candidate
    assert "latest.txt changed" in loser.reason
    assert loser.decision is None  # the loser switched nothing: its pending record says so, no report
    verdicts = [(d.verdict, d.version) for d in registry.decisions()]
    assert sorted(verdicts[:2]) == sorted([("promoted", winner.candidate), ("failed", loser.candidate)])
    assert verdicts[2:] == [("promoted", base.version)]
    assert len([k for k in data.list("decisions/") if k.endswith(".html")]) == 1


def test_an_evaluator_that_finds_its_candidate_already_live_exits_with_the_conflict_and_leaves_nothing(
    data: ObjectStore, good_model: Any
) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    m = stage_model(registry, good_model, now=at(0))
    first = evaluate(settings(), data, registry, candidate=m.version, end=END)
    assert first.verdict == "promoted"
    before = data.list("decisions/")
    second = evaluate(
        settings(), data, Registry(data, extra_trusted_types=TEST_TYPES), candidate=m.version, end=END
    )  # it lost the race
    assert second.verdict == "failed"
    assert "already live" in second.reason
    assert second.decision is None
    assert data.list("decisions/") == before


def test_rollback_after_evaluator_promotions(data: ObjectStore, good_model: Any) -> None:
    registry = Registry(data, extra_trusted_types=TEST_TYPES)
    a = stage_model(registry, NoisyModel(good_model, 0.3), now=at(0))
    assert run(data).verdict == "promoted"
    b = stage_model(registry, good_model, now=at(1))
    assert run(data).verdict == "promoted"
    assert registry.rollback().version == a.version
    assert registry.live_version() == a.version
    registry.rollback(to=b.version)
    assert registry.live_version() == b.version
    verdicts = [d.verdict for d in registry.decisions()]
    assert verdicts == ["rolled_forward", "rolled_back", "promoted", "promoted"]  # b came after a


def test_decision_metrics_over_replayed_days_match_a_direct_computation(
    tmp_path: Path, good_model: Any
) -> None:
    from offline.aviationstack import ReplayServer
    from services.fetcher.fetch import run_fetch

    store = LocalStore(tmp_path)
    with ReplayServer(key="k") as server:
        fetch_settings = get_settings(aviationstack_url=server.url, aviationstack_key="k")
        for day in range(1, 8):
            run_fetch(fetch_settings, store, date(2013, 12, day))
    m = stage_model(Registry(store), good_model, now=at(0), threshold=0.27)
    outcome = run(store)
    details = Registry(store).decisions()[0].details
    assert details is not None
    recorded = details.metrics["candidate"]
    direct_rows = schema.labelled(datasets.load_flights(date(2013, 12, 1), END))
    y = schema.target(direct_rows)
    p = good_model.predict_proba(direct_rows)[:, 1]
    expected = scores(y, p, 0.27)
    assert outcome.candidate == m.version
    assert recorded["rows"] == len(direct_rows)
    for key in ("roc_auc", "pr_auc", "brier", "f1", "accuracy", "precision", "recall"):
        assert recorded[key] == pytest.approx(expected[key], rel=1e-9), key


def test_the_bootstrap_interval_covers_the_observed_difference() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.3).astype(int)
    strong = np.clip(y * 0.3 + rng.random(3000) * 0.7, 0, 1)
    weak = np.clip(y * 0.1 + rng.random(3000) * 0.9, 0, 1)
    result = paired_bootstrap_auc_difference(y, strong, weak, resamples=500, seed=3)
    assert result["ci_low"] < result["difference"] < result["ci_high"]
    assert result["ci_low"] > 0
    again = paired_bootstrap_auc_difference(y, strong, weak, resamples=500, seed=3)
    assert again == result
