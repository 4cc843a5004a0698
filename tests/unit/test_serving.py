"""The fast inference path gives exactly the probabilities of predict_proba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flightdelay import datasets, schema
from flightdelay.serving import fast_predictor
from training.models import CANDIDATES


@pytest.fixture(scope="module")
def flights() -> Any:
    return schema.labelled(datasets.load_flights(end=datasets.TRAINING_END).iloc[::40])


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_fast_predictions_equal_predict_proba(flights: Any, name: str) -> None:
    model = CANDIDATES[name](0).fit(flights, schema.target(flights))
    X = model[0].transform(flights.head(500))
    X[:5, 0] = np.nan  # unknown carriers take the imputation path too
    expected = model[1:].predict_proba(X)[:, 1]
    np.testing.assert_allclose(fast_predictor(model[1:])(X), expected, rtol=1e-12, atol=1e-12)
