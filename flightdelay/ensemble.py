"""A blend of models that each give a probability: the mean of their log-odds.

Why a blend: in our runs the logistic regression and the gradient boosting win in different
months (the regression on a calm November, the boosting on a stormy December), and their mean
beats both on November, the month a model is picked on. Why log-odds and not probabilities: each
member's explanation is a sum in log-odds (explain.py), so the blend's is their mean, exactly.

Every member reads the same matrix (FlightFeatures' output), so the features are computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone

# A member's probability of exactly 0 or 1 would be an infinite log-odds that no other member can
# outweigh: clip it to a log-odds of about ±27.6.
_EDGE = 1e-12


def mean_log_odds(probabilities: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of the members' log-odds, from each member's P(late)."""
    mean: np.ndarray = np.mean([logit(np.clip(p, _EDGE, 1.0 - _EDGE)) for p in probabilities], axis=0)
    return mean


def blended_probability(probabilities: Sequence[np.ndarray]) -> np.ndarray:
    """P(late) from each member's P(late): the mean of their log-odds, as a probability."""
    blended: np.ndarray = expit(mean_log_odds(probabilities))
    return blended


class LogOddsMean(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """Fits each of ``estimators`` ((name, estimator) pairs) on the same rows; predicts the mean
    of their log-odds. Binary only."""

    def __init__(self, estimators: list[tuple[str, Any]]) -> None:
        self.estimators = estimators

    def fit(self, X: Any, y: Any) -> LogOddsMean:
        self.estimators_ = [(name, clone(estimator).fit(X, y)) for name, estimator in self.estimators]
        self.classes_ = self.estimators_[0][1].classes_
        if len(self.classes_) != 2:
            raise ValueError(f"a log-odds blend needs two classes, not {len(self.classes_)}")
        return self

    def _members(self, X: Any) -> list[np.ndarray]:
        return [member.predict_proba(X)[:, 1] for _, member in self.estimators_]

    def decision_function(self, X: Any) -> np.ndarray:
        return mean_log_odds(self._members(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        late = blended_probability(self._members(X))
        return np.column_stack([1.0 - late, late])

    def predict(self, X: Any) -> np.ndarray:
        labels: np.ndarray = self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]
        return labels
