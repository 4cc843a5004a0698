"""Classification metrics shared by training and the evaluator, so both report the same numbers."""

from __future__ import annotations

import numpy as np
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


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut that maximizes F1 on (y, p)."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def scores(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier, and F1/accuracy/precision/recall at ``threshold``."""
    predicted = (p >= threshold).astype(int)
    two_classes = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y, predicted)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "threshold": float(threshold),
        "rows": float(len(y)),
        "base_rate": float(np.mean(y)) if len(y) else float("nan"),
    }
