"""Serving: a flight as asked about gives the features training computes, and the fast inference
path gives exactly the probabilities of predict_proba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flightdelay import conditions, datasets, schema
from flightdelay.features import FEATURES, FlightFeatures
from flightdelay.serving import (
    BOOSTING_ONE_THREAD_ROWS,
    fast_predictor,
    feature_matrix,
    for_serving,
    scheduled_flight,
)
from training.models import CANDIDATES


@pytest.fixture(scope="module")
def flights() -> Any:
    return schema.labelled(datasets.load_flights(end=datasets.TRAINING_END).iloc[::40])


@pytest.fixture(scope="module")
def seen(flights: Any) -> Any:
    """The flights as training sees them: each from a horizon of the mix, conditions unknown for some."""
    return conditions.for_flights(
        flights, datasets.load_weather(), flights, conditions.draw_horizons(len(flights), 0)
    )


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_fast_predictions_equal_predict_proba(seen: Any, name: str) -> None:
    """Every candidate has a serving form, and it gives predict_proba's numbers bit for bit, for one
    flight, a micro-batch and a batch past the boosting's one-thread limit (the forest as served,
    on one thread: on several, scikit-learn adds its trees in any order)."""
    model = for_serving(CANDIDATES[name](0).fit(seen, schema.target(seen)))
    X = model[0].transform(seen.tail(BOOSTING_ONE_THREAD_ROWS + 100))
    X[:5, 0] = np.nan  # unknown carriers take the imputation (or missing-value) path too
    X[5:8, 1] = -1.0  # a negative category code: scikit-learn's "missing" branch
    hours_ahead = X[:, FEATURES.index("hours_ahead")]
    assert np.isnan(hours_ahead).any()  # conditions unknown for some flights,
    assert not np.isnan(hours_ahead).all()  # known for others
    predict = fast_predictor(model[1:])
    assert "generic" not in predict.__qualname__  # not the predict_proba fallback
    for rows in (1, 32, len(X)):
        np.testing.assert_array_equal(predict(X[:rows]), model[1:].predict_proba(X[:rows])[:, 1])


def test_flights_as_asked_get_the_features_of_their_stored_rows(flights: Any) -> None:
    """The API's path (wall-clock times → UTC once → arrays) and training's path (the normalized
    table) give the same numbers, on real flights, across a DST change (March 10, November 3)."""
    features = FlightFeatures().fit(flights)
    rows = flights[flights["flight_date"].dt.month.isin([3, 11])].head(2000)
    asked = [
        scheduled_flight(
            r.carrier, r.origin, r.dest, r.sched_dep_local.to_pydatetime(), r.sched_arr_local.to_pydatetime()
        )
        for r in rows.itertuples()
    ]
    np.testing.assert_array_equal(feature_matrix(features, asked), features.transform(rows))


def test_a_flight_with_an_unknown_airport_or_no_arrival_still_gets_features(flights: Any) -> None:
    features = FlightFeatures().fit(flights)
    row = flights.iloc[0]
    asked = [
        scheduled_flight("B6", "JFK", "XXX", row.sched_dep_local.to_pydatetime()),
        scheduled_flight("ZZ", "QQQ", "BOS", row.sched_dep_local.to_pydatetime(), None),
    ]
    assert asked[0].departure_utc is not None
    assert asked[1].departure_utc is None  # no zone for QQQ: unknown, not an error
    matrix = feature_matrix(features, asked)
    assert matrix.shape == (2, features.transform(flights.head(1)).shape[1])
    assert np.isnan(matrix[1, 0])  # an unknown carrier is a missing value
