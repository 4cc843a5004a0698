"""Train candidates on a time split, pick the best on validation, refit it on the whole window, stage it.

window (training/ [+ new/clean/]), read a day at a time within a row budget (window.py)
    ──▶ labelled rows with conditions ──▶ train | validation (last 30 days)
    each candidate: fit on train, score validation, F1-best threshold
    winner (ROC-AUC): refit on the whole window, keep its threshold ──▶ registry.stage
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from flightdelay import conditions, schema
from flightdelay.errors import DataError
from flightdelay.features import feature_schema
from flightdelay.registry import DataWindow, Manifest, ModelMetadata, Registry, dumps
from flightdelay.scoring import best_f1_threshold, scores, scores_by_horizon
from flightdelay.storage import ObjectStore
from training.models import CANDIDATES
from training.window import stream_window

DEFAULT_MAX_ROWS = 1_000_000  # FLIGHTDELAY_TRAIN_MAX_ROWS's default (flightdelay/config.py)

log = logging.getLogger(__name__)
VALIDATION_DAYS = 30
Progress = Callable[[str], None]


@dataclass
class TrainResult:
    manifest: Manifest
    summary: dict[str, Any] = field(default_factory=dict)


def split_by_time(flights: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): validation is the last 30 days of the window."""
    last = flights["flight_date"].max()
    cut = last - pd.Timedelta(days=VALIDATION_DAYS - 1)
    return flights[flights["flight_date"] < cut], flights[flights["flight_date"] >= cut]


def window_of(flights: pd.DataFrame) -> DataWindow:
    return DataWindow(
        start=flights["flight_date"].min().date(),
        end=flights["flight_date"].max().date(),
        rows=len(flights),
        base_rate=round(float(schema.target(flights).mean()), 4),
    )


def _check_usable(flights: pd.DataFrame, what: str) -> None:
    if flights.empty:
        raise DataError(f"{what} has no labelled flights: seed or fetch data first (`flightdelay seed`)")
    if len(np.unique(schema.target(flights))) < 2:
        raise DataError(f"{what} has only one class (all on time or all late): a model cannot learn from it")


def git_commit() -> str | None:
    """The commit being trained: GIT_COMMIT from the image build, else git itself."""
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def train(
    data: ObjectStore,
    registry: Registry,
    *,
    candidates: list[str] | None = None,
    include_new: bool = False,
    sample: int | None = None,
    seed: int = 42,
    start: date | None = None,
    end: date | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit the candidates, stage the winner, return its manifest and a JSON-able summary."""
    say = progress or (lambda message: log.info(message))
    names = candidates or list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise DataError(f"unknown candidate(s) {', '.join(unknown)}; choose from {', '.join(CANDIDATES)}")

    started = time.perf_counter()
    # Read a day at a time, at most max_rows flights kept (training/window.py): memory is set by
    # the budget, not by the history's length.
    window = stream_window(
        data,
        include_new=include_new,
        start=start,
        end=end,
        budget=max_rows,
        seed=seed,
        sample=sample,
        progress=say,
    )
    labelled = window.rows
    dropped = {"no arrival delay (cancelled or diverted)": window.rows_unlabelled}
    _check_usable(labelled, "the training window")
    train_rows, valid_rows = split_by_time(labelled)
    _check_usable(train_rows, "the training part of the window")
    _check_usable(valid_rows, "the validation part (last 30 days) of the window")
    say(
        f"window {window_of(labelled).start}..{window_of(labelled).end}: {len(train_rows):,} train rows, "
        f"{len(valid_rows):,} validation rows"
    )

    y_train, y_valid = schema.target(train_rows), schema.target(valid_rows)
    results: dict[str, dict[str, float]] = {}
    fitted: dict[str, Any] = {}
    for name in names:
        t0 = time.perf_counter()
        model = CANDIDATES[name](seed).fit(train_rows, y_train)
        fit_seconds = time.perf_counter() - t0
        p = model.predict_proba(valid_rows)[:, 1]
        threshold = best_f1_threshold(y_valid, p)
        results[name] = {**scores(y_valid, p, threshold), "fit_seconds": round(fit_seconds, 2)}
        fitted[name] = model
        say(
            f"{name}: validation ROC-AUC {results[name]['roc_auc']:.4f}, Brier {results[name]['brier']:.4f}, "
            f"F1 {results[name]['f1']:.3f} ({fit_seconds:.1f} s)"
        )

    winner = max(results, key=lambda n: results[n]["roc_auc"])
    views = window.views(valid_rows)
    by_horizon = scores_by_horizon(fitted[winner], views, results[winner]["threshold"])
    say(
        f"winner: {winner} (validation ROC-AUC by horizon: "
        + ", ".join(f"{h} {m['roc_auc']:.3f}" for h, m in by_horizon.items())
        + f"); refitting on all {len(labelled):,} rows"
    )
    final = CANDIDATES[winner](seed).fit(labelled, schema.target(labelled))

    metadata = ModelMetadata(
        model_type=winner,
        feature_schema=feature_schema(),
        threshold=results[winner]["threshold"],
        training_data=window_of(labelled),
        validation_data=window_of(valid_rows),
        metrics={k: v for k, v in results[winner].items() if k != "fit_seconds"},
        horizons=by_horizon,
        candidates=results,
        params={
            "seed": seed,
            "include_new": include_new,
            "sample": sample,
            "max_rows": max_rows,
            "months_whole": window.months_whole,
            "older_months_rate": window.older_rate,
            "validation_days": VALIDATION_DAYS,
            "horizon_mix": {conditions.horizon_name(h): w for h, w in conditions.HORIZON_MIX.items()},
        },
        sklearn_version=sklearn.__version__,
        git_commit=git_commit(),
    )
    manifest = registry.stage(dumps(final), metadata)
    summary: dict[str, Any] = {
        "stage": "train",
        "version": manifest.version,
        "winner": winner,
        "threshold": round(manifest.threshold, 4),
        "validation": {k: round(v, 4) for k, v in results[winner].items()},
        "validation_by_horizon": {h: round(m["roc_auc"], 4) for h, m in by_horizon.items()},
        "candidates": {n: round(r["roc_auc"], 4) for n, r in results.items()},
        "rows_read": window.rows_read,
        "row_budget": {
            "max_rows": max_rows,
            "sampled": window.sampled,
            "older_months_rate": window.older_rate,
        },
        "rows_dropped": dropped,
        "rows_used": len(labelled),
        "base_rate": metadata.training_data.base_rate,
        "date_range": [metadata.training_data.start.isoformat(), metadata.training_data.end.isoformat()],
        "artifact_bytes": manifest.size_bytes,
        "seconds": round(time.perf_counter() - started, 1),
    }
    registry.attach(manifest.version, "data-summary.json", json.dumps(summary, indent=2).encode())
    return TrainResult(manifest, summary)
