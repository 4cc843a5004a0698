"""Evaluate the staged candidate on recent fetched flights, decide by policy, act, and record why.

candidate (newest staged without a verdict) ─┐
live model (latest.txt), if any ─────────────┼─▶ score the same labelled rows of new/clean/
window: N days ending yesterday ─────────────┘        │
                                                      ▼
                          policy.decide (pure) ─▶ verdict and reason
                          act: promote (registry.promote) or record; then the HTML report
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from flightdelay import conditions, explain, layout, schema
from flightdelay.config import Settings
from flightdelay.errors import (
    AlreadyLive,
    CorruptRecord,
    ModelIntegrityError,
    PromotionConflict,
    RegistryError,
)
from flightdelay.features import FEATURES, FlightFeatures, feature_schema
from flightdelay.partitions import read_observations, read_partitions
from flightdelay.records import Comparison, DataWindow, Decision, Evaluation, Verdict
from flightdelay.registry import ModelArtifact, Registry
from flightdelay.scoring import (
    paired_bootstrap_auc_difference,
    probabilities,
    scores,
    scores_by_horizon,
)
from flightdelay.storage import ObjectStore
from flightdelay.validation import check_structure
from services.evaluator.policy import Ruling, decide, policy_of
from services.evaluator.report import render

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    verdict: Verdict
    reason: str
    candidate: str | None = None
    decision: Decision | None = None
    decision_key: str | None = None
    evaluation: Evaluation | None = None

    def summary(self) -> dict[str, Any]:
        evaluation = self.evaluation.model_dump(mode="json") if self.evaluation else {}
        return {
            "stage": "evaluate",
            "verdict": self.verdict,
            "reason": self.reason,
            "candidate": self.candidate,
            "decision_id": self.decision.id if self.decision else None,
            "decision_key": self.decision_key,
            "report_key": self.decision.report_key if self.decision else None,
            "live_after": self.decision.live_after if self.decision else None,
            **{k: evaluation[k] for k in ("window", "metrics", "comparison") if evaluation.get(k)},
        }


def pick_candidate(registry: Registry, requested: str | None) -> str | None:
    """The named version, or the newest staged one that has no promote/reject verdict yet."""
    if requested:
        with contextlib.suppress(ModelIntegrityError):  # there, but refused: judged (rejected) below
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


def _scored(
    artifact: ModelArtifact, rows: pd.DataFrame, views: dict[str, pd.DataFrame]
) -> tuple[np.ndarray, dict[str, dict[str, float]], dict[str, float]]:
    """The model's probabilities on the rows (the horizon mix), its scores on each horizon's view
    of the same flights, and what drives it (each input's mean exact part, in percentage points;
    empty for a model explain.py cannot read); the model is loaded once. ModelIntegrityError when
    it cannot be loaded or cannot score: it is then judged for that, never a crash."""
    model = artifact.load()
    version, threshold = artifact.version, artifact.manifest.threshold
    check_structure(model, version=version)  # a crafted tree would crash this process when scored
    late = probabilities(model, rows, version=version)
    return late, scores_by_horizon(model, views, threshold, version=version), _drivers(model, rows)


def _drivers(model: Any, rows: pd.DataFrame) -> dict[str, float]:
    if not hasattr(model, "steps") or not isinstance(model.steps[0][1], FlightFeatures):
        return {}
    sample = rows.sample(n=min(len(rows), 3000), random_state=0)  # enough for a stable mean
    try:
        parts = explain.split(model[1:], model[0].transform(sample))
    except Exception as exc:  # the report goes without this table; the verdict never depends on it
        log.warning("no drivers for the report", extra={"error": f"{type(exc).__name__}: {exc}"})
        return {}
    mean = np.abs(explain.points(parts)).mean(axis=0)
    return {name: round(float(mean[j]), 3) for j, name in enumerate(FEATURES)}


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
    registry.recover()  # a switch a killed run left pending is completed before anything is judged
    version = pick_candidate(registry, candidate)
    if version is None:
        return Outcome("nothing_to_evaluate", "no staged model is waiting for a verdict")
    policy = policy_of(settings)
    days = window_days or settings.eval_window_days
    end = end or (now.date() - timedelta(days=1))
    start = end - timedelta(days=days - 1)
    flights = read_partitions(data, layout.NEW_CLEAN, start, end)
    # Each flight as seen some hours before it left (the training mix, drawn with the policy's
    # seed), knowing the weather then and how the origin's departures of the window were going.
    observations = read_observations(data, start - timedelta(days=1), end)
    labelled = schema.labelled(flights)
    rows = conditions.for_flights(
        labelled, observations, flights, conditions.draw_horizons(len(labelled), policy.bootstrap_seed)
    )
    y = schema.target(rows)
    window = DataWindow(
        start=start,
        end=end,
        rows=len(rows),
        base_rate=float(y.mean()) if len(y) else 0.0,
        days_with_data=int(labelled["flight_date"].dt.date.nunique()),
    )
    live_problem: str | None = None  # why a live model exists but cannot be compared with
    try:
        live_version = registry.live_version()
    except CorruptRecord as exc:
        live_version, live_problem = None, str(exc)
    evaluation = Evaluation(
        candidate=version, live=live_version, live_unusable=live_problem, window=window, policy=policy
    )

    drivers: dict[str, dict[str, float]] = {}  # filled once the models are scored
    groups = {
        "origin": rows["origin"].to_numpy(),
        "carrier": rows["carrier"].to_numpy(),
        "departure hour": rows["sched_dep_local"].dt.hour.to_numpy(),
    }

    def conclude(ruling: Ruling, predictions: dict[str, np.ndarray] | None = None) -> Outcome:
        return _act(
            registry,
            ruling,
            evaluation,
            now,
            y=y if predictions else None,
            predictions=predictions or {},
            groups=groups,
            importance={n: d for n, d in drivers.items() if d},
        )

    if len(rows) < policy.min_rows:  # not worth loading a model: too little to judge it on
        return conclude(decide({}, None, policy, window=window))
    try:
        cand = registry.artifact(version, "staging", expected_features=feature_schema())
    except ModelIntegrityError as exc:
        return conclude(decide({}, None, policy, window=window, candidate_problem=exc.reason))

    views = conditions.by_horizon(labelled, observations, flights)  # the same for both models
    predictions: dict[str, np.ndarray] = {}
    try:
        predictions["candidate"], evaluation.horizons["candidate"], drivers["candidate"] = _scored(
            cand, rows, views
        )
    except ModelIntegrityError as exc:  # a valid checksum, but it cannot be loaded or cannot score
        return conclude(decide({}, None, policy, window=window, candidate_problem=exc.reason))
    evaluation.metrics["candidate"] = scores(y, predictions["candidate"], cand.manifest.threshold)
    live: ModelArtifact | None = None
    live_scored: tuple[np.ndarray, dict[str, dict[str, float]], dict[str, float]] | None = None
    if live_version is not None:
        try:
            live = registry.live(expected_features=feature_schema())
            live_scored = _scored(live, rows, views) if live is not None else None
        except (ModelIntegrityError, RegistryError) as exc:
            live, live_problem = None, str(exc)
            evaluation.live_unusable = live_problem
            log.warning("live model unusable; the absolute bar alone decides", extra={"error": str(exc)})
    if live is not None and live_scored is not None:
        predictions["live"], evaluation.horizons["live"], drivers["live"] = live_scored
        evaluation.metrics["live"] = scores(y, predictions["live"], live.manifest.threshold)
        if math.isfinite(evaluation.metrics["candidate"]["roc_auc"]):
            evaluation.comparison = Comparison(
                **paired_bootstrap_auc_difference(
                    y,
                    predictions["candidate"],
                    predictions["live"],
                    resamples=policy.bootstrap_resamples,
                    seed=policy.bootstrap_seed,
                )
            )
    ruling = decide(
        evaluation.metrics,
        evaluation.comparison,
        policy,
        window=window,
        live=live.version if live else None,
        live_problem=live_problem,
    )
    return conclude(ruling, predictions)


def _act(
    registry: Registry,
    ruling: Ruling,
    evaluation: Evaluation,
    now: datetime,
    *,
    y: np.ndarray | None,
    predictions: dict[str, np.ndarray],
    groups: dict[str, np.ndarray] | None = None,
    importance: dict[str, dict[str, float]] | None = None,
) -> Outcome:
    version = evaluation.candidate
    report_key = registry.report_key(registry.decision_id(now, version))
    html = render(
        evaluation,
        verdict=ruling.verdict,
        sentence=f"{version}: {ruling.reason}.",
        y=y,
        predictions=predictions,
        groups=groups,
        importance=importance,
    )
    try:
        if ruling.verdict == "promoted":
            decision = registry.promote(
                version,
                reason=ruling.reason,
                source="evaluator",
                details=evaluation,
                report_key=report_key,
                now=now,
            )
        else:
            decision = registry.record(
                registry.new_decision(
                    ruling.verdict,
                    version,
                    ruling.reason,
                    source="evaluator",
                    previous=evaluation.live,
                    live_after=evaluation.live,
                    details=evaluation,
                    report_key=report_key,
                    created_at=now,
                )
            )
    except (PromotionConflict, AlreadyLive) as exc:
        # Another promoter won and recorded its decision: this run leaves nothing behind.
        log.warning("promotion lost a race", extra={"candidate": version, "error": str(exc)})
        return Outcome("failed", f"promotion lost a race: {exc}", version, evaluation=evaluation)
    # The report goes in after the decision that names it, so a lost race leaves no orphan report.
    registry.attach_report(decision, html)
    log.info("evaluation", extra={"verdict": ruling.verdict, "candidate": version, "reason": ruling.reason})
    return Outcome(
        ruling.verdict, ruling.reason, version, decision, registry.decision_key(decision.id), evaluation
    )
