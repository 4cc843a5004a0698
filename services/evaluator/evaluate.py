"""Evaluate the staged candidate on recent fetched flights, decide by policy, act, and record why.

candidate (newest staged without a verdict) ─┐
live model (latest.txt), if any ─────────────┼─▶ score the same labelled rows of new/clean/
window: N days ending yesterday ─────────────┘
    too few rows ──────────────────────────▶ no_decision
    checksum/schema wrong ─────────────────▶ rejected
    ROC-AUC below the bar ─────────────────▶ rejected
    live exists and bootstrap lower bound of
    AUC(candidate) − AUC(live) < −margin ──▶ rejected
    otherwise ─────────────────────────────▶ promoted (registry.promote)
every verdict: decisions/<id>.json + decisions/<id>.html
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from flightdelay import schema
from flightdelay.config import Settings
from flightdelay.datasets import NEW_CLEAN_PREFIX
from flightdelay.errors import (
    AlreadyLive,
    CorruptRecord,
    ModelIntegrityError,
    PromotionConflict,
    RegistryError,
)
from flightdelay.features import feature_schema
from flightdelay.metrics import paired_bootstrap_auc_difference, scores
from flightdelay.partitions import read_partitions
from flightdelay.registry import Decision, ModelArtifact, Registry, Verdict
from flightdelay.storage import ObjectStore
from services.evaluator.report import render

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    verdict: str  # promoted | rejected | no_decision | failed | nothing_to_evaluate
    reason: str
    candidate: str | None = None
    decision: Decision | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "stage": "evaluate",
            "verdict": self.verdict,
            "reason": self.reason,
            "candidate": self.candidate,
            "decision_id": self.decision.id if self.decision else None,
            "decision_key": f"decisions/{self.decision.id}.json" if self.decision else None,
            "report_key": self.decision.report_key if self.decision else None,
            "live_after": self.decision.live_after if self.decision else None,
            **{k: self.details[k] for k in ("window", "metrics", "comparison") if k in self.details},
        }


def pick_candidate(registry: Registry, requested: str | None) -> str | None:
    """The named version, or the newest staged one that has no promote/reject verdict yet."""
    if requested:
        registry.manifest(requested, "staging")  # VersionNotFound if it does not exist
        return requested
    decided = registry.decided_versions()
    try:
        live = registry.live_version()
    except CorruptRecord:
        live = None  # an unreadable pointer names no version to skip
    for manifest in registry.staged():
        if manifest.version not in decided and manifest.version != live:
            return manifest.version
    return None


def policy_of(settings: Settings) -> dict[str, Any]:
    return {
        "min_rows": settings.eval_min_rows,
        "min_roc_auc": settings.eval_min_roc_auc,
        "margin": settings.eval_margin,
        "bootstrap_resamples": settings.eval_bootstrap_resamples,
        "bootstrap_seed": settings.eval_seed,
    }


def _predict(artifact: ModelArtifact, rows: pd.DataFrame) -> np.ndarray:
    probabilities: np.ndarray = artifact.load().predict_proba(rows)[:, 1]
    return probabilities


def evaluate(
    settings: Settings,
    data: ObjectStore,
    registry: Registry,
    *,
    candidate: str | None = None,
    window_days: int | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Evaluate, decide and act once; the outcome says what happened and where it is recorded."""
    now = now or datetime.now(UTC)
    version = pick_candidate(registry, candidate)
    if version is None:
        return Outcome("nothing_to_evaluate", "no staged model is waiting for a verdict")
    policy = policy_of(settings)
    days = window_days or settings.eval_window_days
    end = end or (now.date() - timedelta(days=1))
    start = end - timedelta(days=days - 1)
    rows = schema.labelled(read_partitions(data, NEW_CLEAN_PREFIX, start, end))
    y = schema.target(rows)
    window = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": len(rows),
        "base_rate": float(y.mean()) if len(y) else 0.0,
    }
    live_problem: str | None = None  # why a live model exists but cannot be compared with
    try:
        live_version = registry.live_version()
    except CorruptRecord as exc:
        live_version, live_problem = None, str(exc)
    details: dict[str, Any] = {"window": window, "policy": policy, "candidate": version, "live": live_version}
    if live_problem:
        details["live_unusable"] = live_problem

    def conclude(verdict: str, reason: str) -> Outcome:
        return _act(registry, verdict, version, reason, details, now, y=None, scores={})

    if len(rows) < settings.eval_min_rows:
        return conclude(
            "no_decision",
            f"only {len(rows)} labelled flights in {start}..{end}; the policy needs {settings.eval_min_rows}",
        )
    try:
        cand = registry.artifact(version, "staging", expected_features=feature_schema())
    except ModelIntegrityError as exc:
        return conclude("rejected", f"candidate failed verification: {exc.reason}")

    p_cand = _predict(cand, rows)
    metrics = {"candidate": scores(y, p_cand, cand.manifest.threshold)}
    predictions = {"candidate": p_cand}
    live: ModelArtifact | None = None
    if live_version is not None:
        try:
            live = registry.live(expected_features=feature_schema())
        except (ModelIntegrityError, RegistryError) as exc:
            live_problem = details["live_unusable"] = str(exc)
            log.warning("live model unusable; the absolute bar alone decides", extra={"error": str(exc)})
    if live is not None:
        predictions["live"] = _predict(live, rows)
        metrics["live"] = scores(y, predictions["live"], live.manifest.threshold)
    details["metrics"] = metrics
    auc = metrics["candidate"]["roc_auc"]

    if not np.isfinite(auc):
        verdict, reason = "no_decision", "the window has only one class: ROC-AUC is undefined"
    elif auc < settings.eval_min_roc_auc:
        verdict = "rejected"
        reason = f"ROC-AUC {auc:.4f} is below the bar {settings.eval_min_roc_auc:.2f}"
    elif live is None:
        verdict = "promoted"
        why = f"the live model cannot be used ({live_problem})" if live_problem else "no model is live"
        reason = f"ROC-AUC {auc:.4f} clears the bar {settings.eval_min_roc_auc:.2f} and {why}"
    else:
        comparison = paired_bootstrap_auc_difference(
            y,
            p_cand,
            predictions["live"],
            resamples=settings.eval_bootstrap_resamples,
            seed=settings.eval_seed,
        )
        details["comparison"] = comparison
        diff, low, high = comparison["difference"], comparison["ci_low"], comparison["ci_high"]
        interval = f"ROC-AUC difference {diff:+.4f} vs live {live.version} (95% CI [{low:+.4f}, {high:+.4f}])"
        if low < -settings.eval_margin:
            verdict, reason = (
                "rejected",
                f"may be worse than the live model: {interval} goes below −{settings.eval_margin}",
            )
        else:
            verdict, reason = "promoted", f"not worse than the live model: {interval}"
    return _act(registry, verdict, version, reason, details, now, y=y, scores=predictions)


def _act(
    registry: Registry,
    verdict: str,
    version: str,
    reason: str,
    details: dict[str, Any],
    now: datetime,
    *,
    y: np.ndarray | None,
    scores: dict[str, np.ndarray],
) -> Outcome:
    decision_id = registry.decision_id(now, version)
    report_key = f"decisions/{decision_id}.html"
    sentence = f"{version} {verdict.replace('_', ' ')}: {reason}."
    html = render(
        verdict=verdict,
        sentence=sentence,
        candidate=version,
        live=details.get("live"),
        window=details["window"],
        metrics=details.get("metrics", {}),
        comparison=details.get("comparison"),
        policy=details["policy"],
        y=y,
        scores=scores,
    )
    try:
        if verdict == "promoted":
            decision = registry.promote(
                version, reason=reason, source="evaluator", details=details, report_key=report_key, now=now
            )
        else:
            decision = registry.record(
                registry.new_decision(
                    cast(Verdict, verdict),
                    version,
                    reason,
                    source="evaluator",
                    previous=details.get("live"),
                    live_after=details.get("live"),
                    details=details,
                    report_key=report_key,
                    created_at=now,
                )
            )
    except (PromotionConflict, AlreadyLive) as exc:
        # Another promoter won and recorded its decision: this run leaves nothing behind.
        log.warning("promotion lost a race", extra={"candidate": version, "error": str(exc)})
        return Outcome("failed", f"promotion lost a race: {exc}", version, None, details)
    # The report goes in after the decision that names it, so a lost race leaves no orphan report.
    registry.store.put(report_key, html.encode(), if_absent=True)
    log.info("evaluation", extra={"verdict": verdict, "candidate": version, "reason": reason})
    return Outcome(verdict, reason, version, decision, details)
