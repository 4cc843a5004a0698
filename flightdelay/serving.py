"""Serving: flights as a traveller gives them → model inputs, and fast inference on them.

``ScheduledFlight`` is a flight as asked about (wall-clock times at each airport), converted to UTC
once; ``feature_matrix`` turns a batch of them into the model's inputs through the same
``FlightFeatures.compute`` that training's DataFrames go through.

Fast inference: the fitted estimator's own numbers, without per-call overhead.

scikit-learn spends milliseconds per ``predict_proba`` call on checks and thread pools, whatever the
batch size: a 60-tree random forest takes ~9 ms for one row here, of which ~1 ms is arithmetic.
For the estimators the project trains, this module calls the fitted parts directly: the forest's
``Tree.predict``, the boosted trees' ``_predict_from_raw_data`` (the Cython routines scikit-learn
uses inside ``predict_proba``), and for the logistic regression its one-hot block as a lookup read
from the fitted encoder, the rest through the fitted steps; probabilities are identical (a test
asserts equality). Anything else falls back to ``predict_proba``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from flightdelay.airports import timezones
from flightdelay.conditions import Known
from flightdelay.features import FlightFeatures
from flightdelay.schema import local_to_utc

Predictor = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class ScheduledFlight:
    """One flight as known before departure: local wall-clock times, and the same instants in UTC
    (naive; None where the airport's zone is unknown or no arrival was given)."""

    carrier: str
    origin: str
    dest: str
    departure_local: datetime
    arrival_local: datetime | None
    departure_utc: datetime | None
    arrival_utc: datetime | None


def scheduled_flight(
    carrier: str, origin: str, dest: str, departure_local: datetime, arrival_local: datetime | None = None
) -> ScheduledFlight:
    """The flight with its times converted to UTC, once, in each airport's zone."""
    zones = timezones()
    return ScheduledFlight(
        carrier,
        origin,
        dest,
        departure_local,
        arrival_local,
        local_to_utc(departure_local, zones.get(origin)),
        local_to_utc(arrival_local, zones.get(dest)) if arrival_local is not None else None,
    )


def departures_utc(flights: Sequence[ScheduledFlight]) -> np.ndarray:
    return minutes([f.departure_utc for f in flights])


def feature_matrix(
    features: FlightFeatures, flights: Sequence[ScheduledFlight], at_origin: Known | None = None
) -> np.ndarray:
    """The model inputs of a batch of flights, with the conditions known at their origins (None:
    unknown): the same numbers ``features.transform`` gives for their rows."""
    matrix: np.ndarray = features.compute(
        carrier=np.array([f.carrier for f in flights], dtype=object),
        origin=np.array([f.origin for f in flights], dtype=object),
        dest=np.array([f.dest for f in flights], dtype=object),
        dep_local=minutes([f.departure_local for f in flights]),
        arr_local=minutes([f.arrival_local for f in flights]),
        dep_utc=departures_utc(flights),
        arr_utc=minutes([f.arrival_utc for f in flights]),
        at_origin=at_origin,
    )
    return matrix


_EPOCH, _ONE_MINUTE = datetime(1970, 1, 1), timedelta(minutes=1)
_NAT = np.iinfo(np.int64).min  # numpy's NaT, as an integer


def minutes(times: Sequence[datetime | None]) -> np.ndarray:
    """Naive datetimes (None for unknown) → datetime64[m], NaT where unknown. Whole minutes since
    the epoch by integer arithmetic: 5x quicker than numpy's parsing of datetime objects (bench)."""
    minutes = np.fromiter(
        ((t - _EPOCH) // _ONE_MINUTE if t is not None else _NAT for t in times),
        dtype=np.int64,
        count=len(times),
    )
    return minutes.view("datetime64[m]")


def _imputer(step: SimpleImputer) -> Callable[[np.ndarray], np.ndarray]:
    fill = np.asarray(step.statistics_, dtype=float)

    def impute(X: np.ndarray) -> np.ndarray:
        filled: np.ndarray = np.where(np.isnan(X), fill, X)
        return filled

    return impute


def _forest(forest: RandomForestClassifier) -> Predictor:
    trees = [estimator.tree_ for estimator in forest.estimators_]
    positive = int(np.flatnonzero(forest.classes_ == 1)[0])

    def predict(X: np.ndarray) -> np.ndarray:
        Z = np.ascontiguousarray(X, dtype=np.float32)
        total = np.zeros(len(Z))
        for tree in trees:  # leaf values hold class fractions, as predict_proba averages them
            total += tree.predict(Z)[:, positive]
        probability: np.ndarray = total / len(trees)
        return probability

    return predict


# Above this many rows, scikit-learn's own predict_proba (each tree on every core) is quicker.
BOOSTING_ONE_THREAD_ROWS = 512


def _boosting(model: HistGradientBoostingClassifier) -> Predictor | None:
    """scikit-learn's own tree routine, called for each tree without its per-call wrapping (~12 µs a
    tree, 3.6 ms for 300 trees even for one row; ~4 µs here): the leaf values added in its order,
    then its own link function, so the probabilities are identical (a test asserts equality)."""
    if model.n_trees_per_iteration_ != 1:
        return None  # multi-class: not a model this project trains
    trees = [(iteration[0].nodes, iteration[0].raw_left_cat_bitsets) for iteration in model._predictors]
    known_categories, feature_to_known = model._bin_mapper.make_known_categories_bitsets()
    baseline = float(model._baseline_prediction.ravel()[0])

    def predict(X: np.ndarray) -> np.ndarray:
        if len(X) > BOOSTING_ONE_THREAD_ROWS:
            large: np.ndarray = model.predict_proba(X)[:, 1]
            return large
        X = np.ascontiguousarray(X, dtype=np.float64)
        raw, leaf_values = np.full(len(X), baseline), np.empty(len(X))
        for nodes, category_bitsets in trees:
            _predict_from_raw_data(
                nodes, X, category_bitsets, known_categories, feature_to_known, 1, leaf_values
            )
            raw += leaf_values
        probability: np.ndarray = model._loss.predict_proba(raw)[:, 1]
        return probability

    return predict


def _one_hot(step: Pipeline) -> Callable[[np.ndarray], Any] | None:
    """A fitted (constant SimpleImputer → OneHotEncoder ignoring unknowns) as a lookup from each
    column's value to its output column, read from the encoder itself at load: the same CSR
    matrix its transform builds, without the ~1.2 ms of checks around it."""
    steps = list(step.named_steps.values())
    if not (
        len(steps) == 2
        and isinstance(steps[0], SimpleImputer)
        and steps[0].strategy == "constant"
        and not steps[0].add_indicator
        and isinstance(steps[1], OneHotEncoder)
        and steps[1].handle_unknown == "ignore"
        and steps[1].drop is None
        and steps[1].sparse_output
        and not any(np.isnan(np.asarray(c, dtype=float)).any() for c in steps[1].categories_)
    ):
        return None  # a NaN category would need NaN to equal itself in the lookup
    impute, encoder = steps
    fill = float(impute.statistics_[0])
    offsets = np.cumsum([0, *encoder._n_features_outs])
    lookups = []  # per input column: its sorted categories, and each one's output column (-1: none)
    for j, categories in enumerate(encoder.categories_):
        probe = np.tile([c[0] for c in encoder.categories_], (len(categories), 1)).astype(float)
        probe[:, j] = categories
        codes, known = encoder._transform(probe, handle_unknown="ignore", ensure_all_finite="allow-nan")
        lookups.append(
            (np.asarray(categories, dtype=float), np.where(known[:, j], offsets[j] + codes[:, j], -1))
        )

    def transform(X: np.ndarray) -> Any:
        filled = np.where(np.isnan(X), fill, X)
        found = np.empty(filled.shape, dtype=np.int64)
        for j, (categories, output) in enumerate(lookups):
            at = np.minimum(np.searchsorted(categories, filled[:, j]), len(categories) - 1)
            found[:, j] = np.where(categories[at] == filled[:, j], output[at], -1)
        mask = found >= 0
        indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))])
        return sparse.csr_matrix(
            (np.ones(indptr[-1]), found[mask].astype(np.int32), indptr), shape=(len(X), offsets[-1])
        )

    return transform


def _scaled(step: Pipeline) -> Callable[[np.ndarray], np.ndarray] | None:
    """A fitted (median SimpleImputer with missing indicators → StandardScaler) as its arithmetic:
    the medians filled in, the indicators appended, then the scaler's subtract-and-divide, the
    same operations in the same order as their transforms (without ~0.4 ms of checks)."""
    steps = list(step.named_steps.values())
    if not (
        len(steps) == 2
        and isinstance(steps[0], SimpleImputer)
        and steps[0].add_indicator
        and isinstance(steps[1], StandardScaler)
        and steps[1].with_mean
        and steps[1].with_std
        and not np.isnan(steps[0].statistics_).any()  # no column dropped as empty at fit
    ):
        return None
    impute, scale = steps
    fill, indicated = np.asarray(impute.statistics_, dtype=float), impute.indicator_.features_
    mean, spread = scale.mean_, scale.scale_

    def transform(X: np.ndarray) -> np.ndarray:
        missing = np.isnan(X)
        joined = np.hstack([np.where(missing, fill, X), missing[:, indicated].astype(float)])
        scaled: np.ndarray = (joined - mean) / spread
        return scaled

    return transform


def _linear(encode: ColumnTransformer, model: LogisticRegression) -> Predictor | None:
    """The logistic regression's pipeline with its one-hot block looked up (_one_hot) and its numbers
    by the same arithmetic (_scaled), joined as ColumnTransformer joins them: the same matrix,
    then the model's own predict_proba (3.0 → ~0.6 ms for one flight)."""
    named = {name: (transformer, columns) for name, transformer, columns in encode.transformers_}
    if not encode.sparse_output_ or list(named) != ["categories", "numbers"]:
        return None
    (categories, category_columns), (numbers, number_columns) = named["categories"], named["numbers"]
    one_hot = _one_hot(categories) if isinstance(categories, Pipeline) else None
    scaled = _scaled(numbers) if isinstance(numbers, Pipeline) else None
    if one_hot is None or scaled is None:
        return None

    def predict(X: np.ndarray) -> np.ndarray:
        joined = sparse.hstack([one_hot(X[:, category_columns]), scaled(X[:, number_columns])])
        probability: np.ndarray = model.predict_proba(joined.tocsr())[:, 1]
        return probability

    return predict


def fast_predictor(estimator: Any) -> Predictor:
    """P(class 1) from a feature matrix, by the fastest exact route known for this estimator."""
    steps = list(estimator.named_steps.values()) if isinstance(estimator, Pipeline) else [estimator]
    if (
        len(steps) == 2
        and isinstance(steps[0], SimpleImputer)
        and isinstance(steps[1], RandomForestClassifier)
        and not getattr(steps[0], "add_indicator", False)
    ):
        impute, forest = _imputer(steps[0]), _forest(steps[1])
        return lambda X: forest(impute(X))
    if (
        len(steps) == 2
        and isinstance(steps[0], ColumnTransformer)
        and isinstance(steps[1], LogisticRegression)
    ):
        linear = _linear(steps[0], steps[1])
        if linear is not None:
            return linear
    if len(steps) == 1 and isinstance(steps[0], HistGradientBoostingClassifier):
        boosting = _boosting(steps[0])
        if boosting is not None:
            return boosting

    def generic(X: np.ndarray) -> np.ndarray:
        probability: np.ndarray = estimator.predict_proba(X)[:, 1]
        return probability

    return generic


def for_serving(model: Any) -> Any:
    """The same fitted model, tuned for many small predictions (no thread pool per call)."""
    if hasattr(model, "get_params") and "model__n_jobs" in model.get_params():
        model.set_params(model__n_jobs=1)
    return model
