"""Scores of a model on labelled flights, shared by training and the evaluator, so both report the same
numbers (not the API's Prometheus metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from flightdelay.errors import ModelIntegrityError
from flightdelay.schema import target


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut that maximizes F1 on (y, p)."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the gap between predicted and observed late shares, averaged
    over ``bins`` equal-width probability bins weighted by how many flights fall in each."""
    if not len(y):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    gap = np.abs(
        np.bincount(which, weights=p, minlength=bins) - np.bincount(which, weights=y, minlength=bins)
    )
    return float(gap.sum() / counts.sum())


def scores(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier, calibration error, and F1/accuracy/precision/recall at ``threshold``."""
    predicted = (p >= threshold).astype(int)
    two_classes = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "calibration_error": calibration_error(y, p),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y, predicted)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "threshold": float(threshold),
        "rows": float(len(y)),
        "base_rate": float(np.mean(y)) if len(y) else float("nan"),
    }


def _auc_rows(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ROC-AUC of each row of (y, p) matrices, by the rank-sum formula (ties get average ranks)."""
    from scipy.stats import rankdata

    ranks = rankdata(p, axis=1)
    positives = y.sum(axis=1)
    negatives = y.shape[1] - positives
    rank_sum = (ranks * y).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc: np.ndarray = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    return auc


def paired_bootstrap_auc_difference(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, *, resamples: int, seed: int, chunk: int = 250
) -> dict[str, float]:
    """ROC-AUC(a) − ROC-AUC(b) on the same rows, with a 95% percentile interval from paired resamples."""
    rng = np.random.default_rng(seed)
    differences = []
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, len(y), size=(min(chunk, resamples - start), len(y)))
        yy = y[idx]
        differences.append(_auc_rows(yy, p_a[idx]) - _auc_rows(yy, p_b[idx]))
    diffs = np.concatenate(differences)
    diffs = diffs[np.isfinite(diffs)]
    return {
        "difference": float(roc_auc_score(y, p_a) - roc_auc_score(y, p_b)),
        "ci_low": float(np.percentile(diffs, 2.5)),
        "ci_high": float(np.percentile(diffs, 97.5)),
        "resamples": float(len(diffs)),
    }


def probabilities(model: Any, rows: pd.DataFrame, *, version: str) -> np.ndarray:
    """P(delayed) for each row, or ModelIntegrityError naming ``version`` when the model cannot give
    one number in [0, 1] per row: whatever a loaded model does when asked is that model's fault."""
    try:
        p = np.asarray(model.predict_proba(rows), dtype=float)
    except Exception as exc:
        raise ModelIntegrityError(
            version, reason=f"cannot score flights ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    if p.shape != (len(rows), 2):
        raise ModelIntegrityError(
            version,
            reason=f"gives probabilities of shape {p.shape} for {len(rows)} flights, not ({len(rows)}, 2)",
        )
    late = p[:, 1]
    if not np.all(np.isfinite(late) & (late >= 0) & (late <= 1)):
        raise ModelIntegrityError(version, reason="gives probabilities that are not numbers in [0, 1]")
    return late


def scores_by_horizon(
    model: Any, views: dict[str, pd.DataFrame], threshold: float, *, version: str = "the model"
) -> dict[str, dict[str, float]]:
    """A model's scores on each horizon's view of the same labelled flights (conditions.by_horizon)."""
    return {
        horizon: scores(target(rows), probabilities(model, rows, version=version), threshold)
        for horizon, rows in views.items()
    }


def population_stability(
    reference: np.ndarray, recent: np.ndarray, *, categorical: bool, bins: int = 10
) -> float:
    """Population stability index of ``recent`` against ``reference``: sum over bins of
    (recent share − reference share) · ln(recent share / reference share). Numbers are binned at the
    reference's deciles, categories by value (the reference's most common ``bins`` × 3, the rest
    together); a missing value is a bin of its own. Below 0.1 is stable, above 0.2 has moved."""
    reference, recent = np.asarray(reference, dtype=float), np.asarray(recent, dtype=float)
    if not len(reference) or not len(recent):
        return float("nan")

    def binned(values: np.ndarray) -> np.ndarray:
        out = np.full(len(values), -1, dtype=np.int64)  # missing
        known = ~np.isnan(values)
        if categorical:
            kept = np.unique(reference[~np.isnan(reference)], return_counts=True)
            top = kept[0][np.argsort(-kept[1], kind="stable")[: bins * 3]]
            index = {value: i for i, value in enumerate(top)}
            out[known] = [index.get(v, len(top)) for v in values[known]]
        else:
            edges = np.unique(np.nanquantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
            out[known] = np.searchsorted(edges, values[known], side="right")
        return out

    a, b = binned(reference), binned(recent)
    labels = np.union1d(a, b)
    share_a = np.array([(a == v).mean() for v in labels])
    share_b = np.array([(b == v).mean() for v in labels])
    share_a, share_b = np.maximum(share_a, 1e-4), np.maximum(share_b, 1e-4)  # an empty bin is not infinite
    return float(np.sum((share_b - share_a) * np.log(share_b / share_a)))
