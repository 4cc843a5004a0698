"""validate_model: crafted trees and models that cannot score are refused with the reason, before
anything runs them; the project's own models pass. Each crafted model goes through skops and back, as
a file from the bucket would."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import skops.io
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from flightdelay import schema
from flightdelay.ensemble import LogOddsMean
from flightdelay.errors import ModelIntegrityError
from flightdelay.features import FlightFeatures, feature_schema
from flightdelay.registry import TRUSTED_TYPES, dumps
from flightdelay.validation import validate_model
from tests.factories import flights_slice
from training.models import _CAT_INDEX, CANDIDATES


@pytest.fixture(scope="module")
def flights() -> Any:
    return schema.labelled(flights_slice("2013-01-01", "2013-01-31", every=30))


def _small_forest(flights: Any) -> Pipeline:
    forest = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    steps = [("features", FlightFeatures()), ("unknown", SimpleImputer(strategy="constant", fill_value=-1.0))]
    return Pipeline([*steps, ("model", forest)]).fit(flights, schema.target(flights))


def _small_boosting(flights: Any) -> Pipeline:
    boosting = HistGradientBoostingClassifier(max_iter=5, categorical_features=_CAT_INDEX, random_state=0)
    return Pipeline([("features", FlightFeatures()), ("model", boosting)]).fit(
        flights, schema.target(flights)
    )


def _blend(linear: Pipeline, boosting: Pipeline) -> Pipeline:
    """The two fitted models as the project's log-odds blend (as fitting one would build it: the
    feature steps are fitted on the same flights)."""
    members = [("linear", linear[1:]), ("boosting", boosting[-1])]
    blend = LogOddsMean(members)
    blend.estimators_, blend.classes_ = members, boosting[-1].classes_
    return Pipeline([("features", linear[0]), ("model", blend)])


@pytest.fixture(scope="module")
def models(flights: Any) -> dict[str, Pipeline]:
    linear = CANDIDATES["logistic_regression"](0).fit(flights, schema.target(flights))
    boosting = _small_boosting(flights)
    return {
        "forest": _small_forest(flights),
        "boosting": boosting,
        "linear": linear,
        "blend": _blend(linear, boosting),
    }


def _through_a_file(model: Any) -> Any:
    return skops.io.loads(dumps(model), trusted=list(TRUSTED_TYPES))


def _tree_state(model: Pipeline, change: Callable[[dict[str, Any]], None]) -> Pipeline:
    """The forest with its first tree's node arrays changed as a crafted file could hold them."""
    crafted = copy.deepcopy(model)
    tree = crafted[-1].estimators_[0].tree_
    state = tree.__getstate__()
    change(state)
    tree.__setstate__(state)
    return crafted


def _boosting_nodes(model: Pipeline, change: Callable[[np.ndarray], None]) -> Pipeline:
    crafted = copy.deepcopy(model)
    boosting = crafted[-1].estimators_[1][1] if isinstance(crafted[-1], LogOddsMean) else crafted[-1]
    change(boosting._predictors[0][0].nodes)
    return crafted


def _narrow_bitsets(model: Pipeline) -> Pipeline:
    crafted = copy.deepcopy(model)
    predictor = crafted[-1]._predictors[0][0]
    predictor.raw_left_cat_bitsets = np.ascontiguousarray(predictor.raw_left_cat_bitsets[:, :2])
    return crafted


def _split(nodes: np.ndarray, categorical: bool | None = None) -> int:
    """The first split node (of a numerical or categorical feature, if asked)."""
    inner = ~nodes["is_leaf"].astype(bool)
    if categorical is not None:
        inner &= nodes["is_categorical"].astype(bool) == categorical
    return int(np.flatnonzero(inner)[0])


def _set(nodes: np.ndarray, field: str, value: Any, categorical: bool | None = None) -> None:
    nodes[field][_split(nodes, categorical)] = value


CRAFTED: dict[str, tuple[str, Callable[[dict[str, Pipeline]], Pipeline], str]] = {
    "forest child past the end": (
        "forest",
        lambda m: _tree_state(m["forest"], lambda s: s["nodes"]["left_child"].__setitem__(0, 10**8)),
        "left child 100000000 is out of range",
    ),
    "forest child negative": (
        "forest",
        lambda m: _tree_state(m["forest"], lambda s: s["nodes"]["right_child"].__setitem__(0, -7)),
        "right child -7 is out of range",
    ),
    "forest child loops back": (
        "forest",
        lambda m: _tree_state(m["forest"], lambda s: s["nodes"]["left_child"].__setitem__(1, 0)),
        "node 1's left child 0 is out of range",
    ),
    "forest feature out of range": (
        "forest",
        lambda m: _tree_state(m["forest"], lambda s: s["nodes"]["feature"].__setitem__(0, 5_000)),
        "a split reads a feature outside",
    ),
    "forest threshold NaN": (
        "forest",
        lambda m: _tree_state(m["forest"], lambda s: s["nodes"]["threshold"].__setitem__(0, np.nan)),
        "threshold is NaN",
    ),
    "forest value NaN": (
        "forest",
        lambda m: _tree_state(m["forest"], lambda s: s["values"].__setitem__((2, 0, 0), np.nan)),
        "values are not",
    ),
    "boosting child past the end": (
        "boosting",
        lambda m: _boosting_nodes(m["boosting"], lambda n: _set(n, "left", 4_000_000_000)),
        "left child 4000000000 is out of range",
    ),
    "boosting feature out of range": (
        "boosting",
        lambda m: _boosting_nodes(m["boosting"], lambda n: _set(n, "feature_idx", 10**6)),
        "a split reads a feature outside",
    ),
    "boosting negative feature": (
        "boosting",
        lambda m: _boosting_nodes(m["boosting"], lambda n: _set(n, "feature_idx", -3)),
        "a split reads a feature outside",
    ),
    "boosting bitset out of range": (
        "boosting",
        lambda m: _boosting_nodes(m["boosting"], lambda n: _set(n, "bitset_idx", 10**6, categorical=True)),
        "bitset is out of range",
    ),
    "boosting bitsets too narrow": (
        "boosting",
        lambda m: _narrow_bitsets(m["boosting"]),
        "bitsets are not rows of 8 words",
    ),
    "boosting categorical split on a number": (
        "boosting",
        lambda m: _boosting_nodes(m["boosting"], lambda n: _set(n, "is_categorical", 1, categorical=False)),
        "binned as a number",
    ),
    "blend's boosting child past the end": (
        "blend",
        lambda m: _boosting_nodes(m["blend"], lambda n: _set(n, "right", 77_777)),
        "right child 77777 is out of range",
    ),
    "boosting leaf NaN": (
        "boosting",
        lambda m: _boosting_nodes(m["boosting"], lambda n: n["value"].__setitem__(n["is_leaf"] == 1, np.nan)),
        "a leaf's value is not finite",
    ),
}


def test_the_project_models_and_the_small_ones_pass(models: dict[str, Pipeline]) -> None:
    for model in models.values():
        validate_model(_through_a_file(model), feature_schema(), version="v1")


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_tree_is_refused_with_where_and_why_before_it_runs(
    models: dict[str, Pipeline], case: str
) -> None:
    _, craft, reason = CRAFTED[case]
    crafted = _through_a_file(craft(models))
    with pytest.raises(ModelIntegrityError, match="model v2: refused: ") as refused:
        validate_model(crafted, feature_schema(), version="v2")
    assert reason in str(refused.value)


def test_an_estimator_expecting_other_inputs_than_the_features_is_refused(
    models: dict[str, Pipeline],
) -> None:
    crafted = copy.deepcopy(models["forest"])
    crafted[-1].n_features_in_ = 500  # its trees may then read 500 columns of a narrower matrix
    with pytest.raises(ModelIntegrityError, match="expects 500 inputs"):
        validate_model(_through_a_file(crafted), feature_schema(), version="v2")


def test_a_model_answering_nan_is_refused_by_the_smoke_test(models: dict[str, Pipeline]) -> None:
    crafted = copy.deepcopy(models["linear"])
    crafted[-1].intercept_[:] = np.nan  # structurally sound, but no answer is a probability
    with pytest.raises(ModelIntegrityError, match="are not probabilities: \\[nan"):
        validate_model(_through_a_file(crafted), feature_schema(), version="v2")


def test_a_model_that_raises_when_scoring_is_refused_with_the_error(models: dict[str, Pipeline]) -> None:
    crafted = copy.deepcopy(models["linear"])
    crafted[-1].coef_ = crafted[-1].coef_[:, :3]  # fewer weights than inputs
    with pytest.raises(ModelIntegrityError, match="cannot score a few flights"):
        validate_model(_through_a_file(crafted), feature_schema(), version="v2")


def test_a_model_without_the_feature_step_is_refused(models: dict[str, Pipeline]) -> None:
    with pytest.raises(ModelIntegrityError, match="FlightFeatures"):
        validate_model(models["forest"][1:], feature_schema(), version="v2")
