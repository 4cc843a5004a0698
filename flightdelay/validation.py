"""Is a loaded model safe to run and able to score? Checked once, before it is served or judged.

skops only builds trusted types, but the numbers inside them are the file's: scikit-learn's tree
routines (``Tree.apply``, the boosting's ``_predict_from_raw_data``) follow child, feature and bitset
indices without bounds checks, so one crafted index reads outside an array and the process dies
(a segfault, not an exception). ``validate_model`` reads every tree's arrays first (children in range
and after their parent, so no walk can leave the array or loop; features within the estimator's
inputs; thresholds not NaN; values of the declared shape and finite), then scores a few flights by
the path serving takes and by ``predict_proba``, and refuses a model whose answers are not
probabilities. Either failure is a ``ModelIntegrityError`` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.tree._tree import Tree

from flightdelay.conditions import FEATURES as CONDITIONS
from flightdelay.conditions import Known
from flightdelay.ensemble import LogOddsMean
from flightdelay.errors import ModelIntegrityError
from flightdelay.features import FlightFeatures
from flightdelay.records import FeatureColumn
from flightdelay.serving import fast_predictor, feature_matrix, scheduled

# A few flights as serving sees them: known and unknown codes, morning to night, with and without an
# arrival, with conditions unknown and known (each a plausible reading).
SMOKE_FLIGHTS = (
    ("B6", "JFK", "BOS", "2013-12-02T06:00", "2013-12-02T07:15"),
    ("AA", "LGA", "ORD", "2013-12-02T13:30", None),
    ("UA", "EWR", "SFO", "2013-12-02T21:45", "2013-12-03T01:20"),
    ("ZZ", "QQQ", "XXX", "2013-12-03T09:05", None),
)
SMOKE_CONDITIONS = {
    "hours_ahead": 3.0,
    "weather_age_hours": 0.5,
    "temp_c": 4.0,
    "dewpoint_spread_c": 3.0,
    "wind_kt": 12.0,
    "gust_kt": 20.0,
    "visib_mi": 10.0,
    "altim_hpa": 1015.0,
    "recent_departures": 30.0,
    "recent_late_share": 0.2,
    "recent_mean_delay": 8.0,
}
TREE_LEAF = -1  # scikit-learn's mark of a leaf's children
BITSET_WORDS = 8  # 256 categories in 32-bit words: the width scikit-learn's bitset routines read


def validate_model(model: Any, schema: Sequence[FeatureColumn], *, version: str = "candidate") -> None:
    """Raise ModelIntegrityError unless ``model`` (a pipeline starting with FlightFeatures, inputs as
    ``schema`` lists them) is structurally sound and gives a probability for each smoke flight."""
    try:
        features, estimator = model[0], model[1:]
    except (TypeError, IndexError, KeyError):
        raise ModelIntegrityError(version, reason="not a pipeline with a feature step") from None
    if not isinstance(features, FlightFeatures):
        raise ModelIntegrityError(version, reason="it does not start with the shared FlightFeatures step")
    try:
        _check(estimator, len(schema), "model", set())
    except _Unsound as exc:
        raise ModelIntegrityError(version, reason=f"refused: {exc}") from None
    _smoke(features, estimator, len(schema), version)


def check_structure(model: Any, *, version: str) -> None:
    """Raise ModelIntegrityError when a tree the model holds, in whatever wraps it, is unsound: the
    file would crash the process that scores it. The evaluator runs it before judging a candidate
    (validate_model does it too, for a pipeline the API is about to serve)."""
    try:
        _check(model, None, "model", set())
    except _Unsound as exc:
        raise ModelIntegrityError(version, reason=f"refused: {exc}") from None


class _Unsound(Exception):
    """A structural fault, with where it is."""


def _check(obj: Any, width: int | None, where: str, seen: set[int]) -> None:
    """Check ``obj`` and what it holds; ``width``: the number of columns it is given, when known."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Pipeline):
        for name, step in obj.steps:
            _check(step, width, f"{where}.{name}", seen)
            width = width if _keeps_width(step) else None
        return
    if isinstance(obj, LogOddsMean):
        for name, member in getattr(obj, "estimators_", []):
            _check(member, width, f"{where}.{name}", seen)
        return
    inputs = getattr(obj, "n_features_in_", None)
    if isinstance(obj, HistGradientBoostingClassifier):
        _check_boosting(obj, _inputs(inputs, width, where), where)
        return
    trees = _trees_of(obj)
    if trees:
        n = _inputs(inputs, width, where)
        for i, tree in enumerate(trees):
            _check_tree(tree, n, f"{where} tree {i}")
        return
    for name, value in getattr(obj, "__dict__", {}).items():  # any tree held some other way
        for i, item in enumerate(value if isinstance(value, list | tuple) else [value]):
            if isinstance(item, Tree):
                _check_tree(item, None, f"{where}.{name}[{i}]")
            elif isinstance(item, tuple) and len(item) >= 2:
                _check(item[1], None, f"{where}.{name}[{i}]", seen)  # (name, estimator[, columns])
            elif hasattr(item, "get_params"):
                _check(item, None, f"{where}.{name}[{i}]", seen)


def _keeps_width(step: Any) -> bool:
    """Whether a step hands on as many columns as it gets (the steps the project puts before trees)."""
    if isinstance(step, FlightFeatures):
        return True
    return (
        isinstance(step, SimpleImputer)
        and not step.add_indicator
        and (step.strategy == "constant" or step.keep_empty_features)
    )


def _inputs(declared: Any, width: int | None, where: str) -> int:
    """The estimator's declared number of inputs, which must be the columns it is given."""
    if not isinstance(declared, int | np.integer) or declared < 1:
        raise _Unsound(f"{where} declares no number of inputs")
    if width is not None and declared != width:
        raise _Unsound(f"{where} expects {declared} inputs, the feature step gives {width}")
    return int(declared)


def _trees_of(obj: Any) -> list[Tree]:
    """The sklearn trees an estimator predicts with: its own, or its ensemble members'."""
    if isinstance(getattr(obj, "tree_", None), Tree):
        return [obj.tree_]
    members = getattr(obj, "estimators_", None)
    if members is None:
        return []
    flat = np.asarray(members, dtype=object).ravel()  # a list (forests) or an array (gradient boosting)
    trees = [getattr(member, "tree_", None) for member in flat]
    if any(isinstance(tree, Tree) for tree in trees) and not all(isinstance(tree, Tree) for tree in trees):
        raise _Unsound("an ensemble mixes trees and other estimators")
    return [tree for tree in trees if isinstance(tree, Tree)]


def _check_children(left: np.ndarray, right: np.ndarray, leaf: np.ndarray, where: str) -> None:
    """Every split node's children come after it and within the array: no walk leaves it or loops."""
    index = np.arange(len(left))
    inner = ~leaf
    for side, children in (("left", left), ("right", right)):
        bad = inner & ((children <= index) | (children >= len(left)))
        if bad.any():
            node = int(np.flatnonzero(bad)[0])
            raise _Unsound(f"{where}: node {node}'s {side} child {int(children[node])} is out of range")


def _check_tree(tree: Tree, inputs: int | None, where: str) -> None:
    count = int(tree.node_count)
    if count < 1:
        raise _Unsound(f"{where} has no nodes")
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature, threshold = np.asarray(tree.feature), np.asarray(tree.threshold)
    if not len(left) == len(right) == len(feature) == len(threshold) == count:
        raise _Unsound(f"{where}: its node arrays do not have its {count} nodes")
    leaf = (left == TREE_LEAF) & (right == TREE_LEAF)
    _check_children(left, right, leaf, where)
    n = int(tree.n_features)
    if inputs is not None and n != inputs:
        raise _Unsound(f"{where} reads {n} features of the estimator's {inputs}")
    if ((feature[~leaf] < 0) | (feature[~leaf] >= n)).any():
        raise _Unsound(f"{where}: a split reads a feature outside 0..{n - 1}")
    if np.isnan(threshold[~leaf]).any():
        raise _Unsound(f"{where}: a split's threshold is NaN")
    value = np.asarray(tree.value)
    if value.shape != (count, int(tree.n_outputs), int(tree.max_n_classes)) or not np.isfinite(value).all():
        raise _Unsound(f"{where}: its values are not {count} finite rows of its declared shape")


def _check_boosting(model: HistGradientBoostingClassifier, inputs: int, where: str) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    is_categorical = getattr(model._bin_mapper, "is_categorical_", None)
    if is_categorical is None or len(is_categorical) != inputs:
        raise _Unsound(f"{where}: its binning does not describe its {inputs} inputs")
    if not np.isfinite(np.asarray(model._baseline_prediction, dtype=float)).all():
        raise _Unsound(f"{where}: its baseline is not finite")
    for i, iteration in enumerate(model._predictors):
        for predictor in iteration:
            tree, nodes = f"{where} tree {i}", predictor.nodes
            if nodes.dtype != PREDICTOR_RECORD_DTYPE or len(nodes) < 1:
                raise _Unsound(f"{tree}: its nodes are not scikit-learn's node records")
            leaf = nodes["is_leaf"].astype(bool)
            _check_children(nodes["left"].astype(np.int64), nodes["right"].astype(np.int64), leaf, tree)
            inner = nodes[~leaf]
            if ((inner["feature_idx"] < 0) | (inner["feature_idx"] >= inputs)).any():
                raise _Unsound(f"{tree}: a split reads a feature outside 0..{inputs - 1}")
            categorical = inner[inner["is_categorical"].astype(bool)]
            bitsets = np.asarray(predictor.raw_left_cat_bitsets)
            if bitsets.ndim != 2 or bitsets.shape[1] != BITSET_WORDS:  # a category (0-255) reads word c // 32
                raise _Unsound(f"{tree}: its category bitsets are not rows of {BITSET_WORDS} words")
            if (categorical["bitset_idx"] >= len(bitsets)).any():
                raise _Unsound(f"{tree}: a categorical split's bitset is out of range")
            if not is_categorical[categorical["feature_idx"]].all():
                raise _Unsound(f"{tree}: a categorical split reads a feature binned as a number")
            if np.isnan(inner["num_threshold"][~inner["is_categorical"].astype(bool)]).any():
                raise _Unsound(f"{tree}: a split's threshold is NaN")
            if not np.isfinite(nodes["value"][leaf]).all():
                raise _Unsound(f"{tree}: a leaf's value is not finite")


def _smoke(features: FlightFeatures, estimator: Any, width: int, version: str) -> None:
    """Score the smoke flights by serving's fast path and by predict_proba: probabilities, or refused."""
    flights = scheduled(
        [row[0] for row in SMOKE_FLIGHTS],
        [row[1] for row in SMOKE_FLIGHTS],
        [row[2] for row in SMOKE_FLIGHTS],
        np.array([row[3] for row in SMOKE_FLIGHTS], dtype="datetime64[m]"),
        np.array([row[4] or "NaT" for row in SMOKE_FLIGHTS], dtype="datetime64[m]"),
    )
    n = len(flights)
    known = Known(
        {name: np.where(np.arange(n) % 2 == 1, SMOKE_CONDITIONS[name], np.nan) for name in CONDITIONS}
    )
    try:
        X = feature_matrix(features, flights, known)
        if X.shape != (n, width):
            raise ValueError(f"the feature step gives {X.shape[1]} columns, not the schema's {width}")
        answers = {
            "as served": np.asarray(fast_predictor(estimator)(X), dtype=float),
            "by predict_proba": np.asarray(estimator.predict_proba(X), dtype=float)[:, 1],
        }
    except Exception as exc:  # whatever a model's own code raises, it cannot score
        raise ModelIntegrityError(
            version, reason=f"cannot score a few flights ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    for how, p in answers.items():
        if p.shape != (n,) or not (np.isfinite(p) & (p >= 0) & (p <= 1)).all():
            raise ModelIntegrityError(
                version,
                reason=f"its answers {how} to {n} smoke flights are not probabilities: {p.round(4).tolist()}",
            )
