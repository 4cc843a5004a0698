"""The guard on serving.py's use of scikit-learn's private names (issue 30).

serving.py's fast forms read names scikit-learn does not promise to keep (serving.SKLEARN_PRIVATE);
bench.serving_libraries measured the libraries that would serve the model on public terms and none
was both as fast and exactly equal, so serving.py stays, pinned to the scikit-learn releases it is
tested with. These tests fail loudly, naming what serving.py depends on, when the installed
scikit-learn is outside that range or a fitted model lacks one of the names.
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import OneHotEncoder

from flightdelay import serving
from flightdelay.serving import (
    SKLEARN_PRIVATE,
    SUPPORTED_SKLEARN,
    UnsupportedScikitLearn,
    fast_predictor,
    in_supported_range,
)

LOCK = Path(__file__).resolve().parents[2] / "uv.lock"
DEPENDS_ON = "flightdelay/serving.py reads these private names of scikit-learn:\n  " + "\n  ".join(
    SKLEARN_PRIVATE
)


def test_installed_scikit_learn_is_in_the_range_serving_is_tested_with() -> None:
    installed = version("scikit-learn")
    if not in_supported_range(installed):
        pytest.fail(
            f"scikit-learn {installed} is outside SUPPORTED_SKLEARN {SUPPORTED_SKLEARN}. {DEPENDS_ON}\n"
            "Check each still exists and means the same (tests/unit/test_serving.py, this file), run "
            "`python -m bench.serving_libraries` to see whether a library now serves the model as fast "
            "and exactly, then move SUPPORTED_SKLEARN and the measurement beside it.",
            pytrace=False,
        )


def test_locked_scikit_learn_is_in_the_supported_range() -> None:
    """The range starts at the release uv.lock pins: the one the serving tests ran on."""
    locked = re.search(r'\[\[package\]\]\nname = "scikit-learn"\nversion = "([^"]+)"', LOCK.read_text())
    assert locked is not None, "scikit-learn not found in uv.lock"
    assert in_supported_range(locked[1]), (
        f"uv.lock pins scikit-learn {locked[1]}, outside SUPPORTED_SKLEARN {SUPPORTED_SKLEARN}. {DEPENDS_ON}"
    )


@pytest.mark.parametrize(
    ("installed", "supported"),
    [
        ("1.9.1", True),
        ("1.9.7", True),
        ("1.9.1.post1", True),
        ("1.9.0", False),
        ("1.10.0", False),
        ("1.10.0rc1", False),
        ("1.9.2.dev0", False),
        ("2.0", False),
        ("1.8.2", False),
    ],
)
def test_supported_range_reads_releases_and_refuses_pre_releases(installed: str, supported: bool) -> None:
    assert in_supported_range(installed, ">=1.9.1,<1.10") is supported


@pytest.fixture(scope="module")
def boosting() -> HistGradientBoostingClassifier:
    """A small fitted boosting with native categorical splits and missing values, like the project's."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 6, 600).astype(float), rng.normal(size=600)])
    X[::17, 0] = np.nan
    y = ((X[:, 0] % 2 == 0) ^ (X[:, 1] > 0.5)).astype(int)
    return HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def encoder() -> OneHotEncoder:
    return OneHotEncoder(handle_unknown="ignore").fit(np.array([[1.0, 2.0], [3.0, 4.0]]))


def _has(obj: Any, dotted: str) -> None:
    """Walk ``a.b.c`` from obj, failing with the name that is missing."""
    for name in dotted.split("."):
        if not hasattr(obj, name):
            pytest.fail(f"{type(obj).__name__} has no {name!r} (of {dotted}). {DEPENDS_ON}", pytrace=False)
        obj = getattr(obj, name)


# Each name serving.py reads, on the object it reads it from: SKLEARN_PRIVATE in checkable form.
ON_BOOSTING = [
    "_predictors",
    "_bin_mapper.make_known_categories_bitsets",
    "_baseline_prediction",
    "_loss.predict_proba",
]
ON_TREE = ["nodes", "raw_left_cat_bitsets"]
ON_ENCODER = ["_transform", "_n_features_outs"]


@pytest.mark.parametrize("name", ON_BOOSTING)
def test_fitted_boosting_has_each_private_name_serving_reads(
    boosting: HistGradientBoostingClassifier, name: str
) -> None:
    _has(boosting, name)


@pytest.mark.parametrize("name", ON_TREE)
def test_each_boosted_tree_has_the_fields_serving_reads(
    boosting: HistGradientBoostingClassifier, name: str
) -> None:
    _has(boosting._predictors[0][0], name)


def test_boosted_trees_keep_the_node_fields_serving_relies_on(
    boosting: HistGradientBoostingClassifier,
) -> None:
    """The node record _predict_from_raw_data walks (and explain.py reads) keeps its fields."""
    fields = set(boosting._predictors[0][0].nodes.dtype.names)
    wanted = {"value", "count", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right"}
    wanted |= {"is_leaf", "is_categorical", "bitset_idx"}
    assert wanted <= fields, f"tree nodes lack {sorted(wanted - fields)}. {DEPENDS_ON}"


@pytest.mark.parametrize("name", ON_ENCODER)
def test_fitted_one_hot_encoder_has_each_private_name_serving_reads(
    encoder: OneHotEncoder, name: str
) -> None:
    _has(encoder, name)


def test_private_tree_routine_is_importable() -> None:
    module, _, name = SKLEARN_PRIVATE[0].rpartition(".")
    try:
        routine = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{SKLEARN_PRIVATE[0]}: {error}. {DEPENDS_ON}", pytrace=False)
    assert callable(routine)


def test_outside_the_range_serving_falls_back_to_predict_proba_with_a_warning(
    boosting: HistGradientBoostingClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "version", lambda package: "1.10.0")
    serving.sklearn_internals_usable.cache_clear()
    try:
        with pytest.warns(UnsupportedScikitLearn, match=r"scikit-learn 1\.10\.0 is outside .*_predictors"):
            predict = fast_predictor(boosting)
    finally:
        serving.sklearn_internals_usable.cache_clear()
    assert "generic" in predict.__qualname__  # predict_proba, not the fast form
    X = np.array([[1.0, 0.2], [np.nan, -1.0], [4.0, 2.0]])
    np.testing.assert_array_equal(predict(X), boosting.predict_proba(X)[:, 1])


def test_inside_the_range_serving_uses_its_fast_form(boosting: HistGradientBoostingClassifier) -> None:
    assert serving.sklearn_internals_usable()
    assert "generic" not in fast_predictor(boosting).__qualname__
