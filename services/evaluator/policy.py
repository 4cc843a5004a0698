"""The promotion policy as a pure function: the same evidence always gives the same verdict.

too few labelled rows ─────────────────▶ no_decision
candidate failed verification ─────────▶ rejected
only one class in the window ──────────▶ no_decision (ROC-AUC undefined)
ROC-AUC below the bar ─────────────────▶ rejected
no usable live model ──────────────────▶ promoted
bootstrap lower bound of
AUC(candidate) − AUC(live) < −margin ──▶ rejected
otherwise ─────────────────────────────▶ promoted
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flightdelay.config import Settings
from flightdelay.records import Comparison, DataWindow, Policy, Verdict


@dataclass(frozen=True)
class Ruling:
    verdict: Verdict
    reason: str


def policy_of(settings: Settings) -> Policy:
    return Policy(
        min_rows=settings.eval_min_rows,
        min_roc_auc=settings.eval_min_roc_auc,
        margin=settings.eval_margin,
        bootstrap_resamples=settings.eval_bootstrap_resamples,
        bootstrap_seed=settings.eval_seed,
    )


def decide(
    metrics: dict[str, dict[str, float]],
    comparison: Comparison | None,
    policy: Policy,
    *,
    window: DataWindow,
    live: str | None = None,
    live_problem: str | None = None,
    candidate_problem: str | None = None,
) -> Ruling:
    """The verdict on a candidate from its scores (``metrics["candidate"]``), the comparison with
    the live model ``live`` (None when there is none or it cannot be used: ``live_problem``)."""
    if window.rows < policy.min_rows:
        return Ruling(
            "no_decision",
            f"only {window.rows} labelled flights in {window.start}..{window.end}; "
            f"the policy needs {policy.min_rows}",
        )
    if candidate_problem is not None:
        return Ruling("rejected", f"candidate failed verification: {candidate_problem}")
    auc = metrics["candidate"]["roc_auc"]
    if not math.isfinite(auc):
        return Ruling("no_decision", "the window has only one class: ROC-AUC is undefined")
    if auc < policy.min_roc_auc:
        return Ruling("rejected", f"ROC-AUC {auc:.4f} is below the bar {policy.min_roc_auc:.2f}")
    if live is None or comparison is None:
        why = f"the live model cannot be used ({live_problem})" if live_problem else "no model is live"
        return Ruling("promoted", f"ROC-AUC {auc:.4f} clears the bar {policy.min_roc_auc:.2f} and {why}")
    interval = (
        f"ROC-AUC difference {comparison.difference:+.4f} vs live {live} "
        f"(95% CI [{comparison.ci_low:+.4f}, {comparison.ci_high:+.4f}])"
    )
    if comparison.ci_low < -policy.margin:
        return Ruling("rejected", f"may be worse than the live model: {interval} goes below −{policy.margin}")
    return Ruling("promoted", f"not worse than the live model: {interval}")
