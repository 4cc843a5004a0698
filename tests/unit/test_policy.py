"""The promotion policy, driven through every verdict with no store and no model."""

from __future__ import annotations

from datetime import date

import pytest

from flightdelay.records import Comparison, DataWindow, Policy
from services.evaluator.policy import decide

POLICY = Policy(min_rows=500, min_roc_auc=0.60, margin=0.005, bootstrap_resamples=1000, bootstrap_seed=1)
WINDOW = DataWindow(start=date(2013, 12, 1), end=date(2013, 12, 7), rows=6000, base_rate=0.2)


def scored(auc: float) -> dict[str, dict[str, float]]:
    return {"candidate": {"roc_auc": auc}}


def compared(low: float, difference: float = 0.0) -> Comparison:
    return Comparison(difference=difference, ci_low=low, ci_high=difference + 0.01, resamples=1000)


def test_too_few_rows_is_no_decision_naming_the_window() -> None:
    small = WINDOW.model_copy(update={"rows": 499})
    ruling = decide(scored(0.9), None, POLICY, window=small)
    assert ruling.verdict == "no_decision"
    assert ruling.reason == "only 499 labelled flights in 2013-12-01..2013-12-07; the policy needs 500"


def test_exactly_the_minimum_rows_is_enough() -> None:
    assert decide(scored(0.7), None, POLICY, window=WINDOW.model_copy(update={"rows": 500})).verdict == (
        "promoted"
    )


def test_a_candidate_that_failed_verification_is_rejected() -> None:
    ruling = decide({}, None, POLICY, window=WINDOW, candidate_problem="sha256 0a does not match")
    assert ruling.verdict == "rejected"
    assert ruling.reason == "candidate failed verification: sha256 0a does not match"


def test_a_window_with_one_class_is_no_decision() -> None:
    ruling = decide(scored(float("nan")), None, POLICY, window=WINDOW)
    assert ruling.verdict == "no_decision"
    assert "only one class" in ruling.reason


def test_below_the_bar_is_rejected_even_when_better_than_live() -> None:
    ruling = decide(scored(0.5999), compared(0.02, 0.03), POLICY, window=WINDOW, live="v1")
    assert ruling.verdict == "rejected"
    assert ruling.reason == "ROC-AUC 0.5999 is below the bar 0.60"


def test_clearing_the_bar_with_nothing_live_is_promoted() -> None:
    ruling = decide(scored(0.61), None, POLICY, window=WINDOW)
    assert ruling.verdict == "promoted"
    assert ruling.reason.endswith("and no model is live")


def test_an_unusable_live_model_leaves_the_bar_alone_to_decide() -> None:
    ruling = decide(scored(0.61), None, POLICY, window=WINDOW, live_problem="model v1: size differs")
    assert ruling.verdict == "promoted"
    assert ruling.reason.endswith("the live model cannot be used (model v1: size differs)")


@pytest.mark.parametrize(
    ("low", "verdict"),
    [(-0.0051, "rejected"), (-0.005, "promoted"), (0.0, "promoted"), (0.02, "promoted")],
)
def test_against_live_the_lower_bound_decides_at_the_margin(low: float, verdict: str) -> None:
    ruling = decide(scored(0.65), compared(low), POLICY, window=WINDOW, live="v1")
    assert ruling.verdict == verdict
    assert "vs live v1" in ruling.reason
