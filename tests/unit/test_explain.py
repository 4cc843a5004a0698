"""The explanations are the models' own sums: base + the terms is each model's score exactly."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from flightdelay import conditions, datasets, explain, schema
from training.models import hist_gradient_boosting, linear_and_boosting, logistic_regression, random_forest


@pytest.fixture(scope="module")
def flights() -> tuple[Any, Any]:
    # With the conditions, as training makes them: some known, some not (missing-value columns).
    flights = datasets.load_flights()
    weather = datasets.load_weather()
    train = schema.labelled(flights[flights["flight_date"] <= str(datasets.TRAINING_END)].iloc[::40])
    train = conditions.for_flights(train, weather, flights, conditions.draw_horizons(len(train), 0))
    december = datasets.load_flights(date(2013, 12, 9), date(2013, 12, 9)).iloc[::4]
    december = conditions.for_flights(december, weather, flights, conditions.draw_horizons(len(december), 1))
    return train, december


@pytest.mark.parametrize(
    "make", [hist_gradient_boosting, logistic_regression, random_forest, linear_and_boosting]
)
def test_base_plus_the_terms_is_the_models_own_score(flights: tuple[Any, Any], make: Any) -> None:
    train, december = flights
    model = make(0).fit(train, schema.target(train))
    rows = model[0].transform(december)
    result = explain.split(model[1:], rows)
    total = result.base + result.contributions.sum(axis=1)
    if result.scale == "probability":
        expected = model.predict_proba(december)[:, 1]
    else:
        final = model.steps[-1][1]
        expected = final.decision_function(model[1:-1].transform(rows) if len(model.steps) > 2 else rows)
    np.testing.assert_allclose(total, expected, rtol=0, atol=1e-9)
    # Inputs a model does not read get no credit (the forest and boosting read every column they split on).
    assert result.contributions.shape == (len(december), rows.shape[1])
    factors, advice = explain.factors(result, 0)
    assert 1 <= len(factors) <= 3
    assert all(f["words"].endswith("the chance") for f in factors)
    assert abs(factors[0]["effect"]) >= abs(factors[-1]["effect"])
    assert (advice is None) == (factors[0]["effect"] <= 0)


def test_a_model_it_cannot_read_is_said_so() -> None:
    rows = np.zeros((3, 22))
    model = DummyClassifier().fit(rows, [0, 1, 0])
    with pytest.raises(explain.CannotExplain, match="DummyClassifier"):
        explain.split(model, rows)


def test_a_weather_reason_names_the_flights_weather_inputs_that_count_most() -> None:
    from flightdelay.features import FEATURES

    terms = np.zeros(len(FEATURES))
    values = np.full(len(FEATURES), np.nan)
    for name, term, value in [
        ("gust_kt", 0.9, 32.0),  # the two that raise this flight's risk most …
        ("visib_mi", 0.6, 2.0),
        ("wind_kt", 0.1, 18.0),  # … a third that raises it a little …
        ("temp_c", -0.2, 4.0),  # … and one that lowers it: not why the weather raises the risk
        ("dep_hour", 0.3, 17.0),
    ]:
        terms[FEATURES.index(name)], values[FEATURES.index(name)] = term, value
    result = explain.Split(np.array([-1.5]), terms[None, :], "log_odds")
    factors, advice = explain.factors(result, 0, values=values)
    assert factors[0]["input"] == "weather"
    assert factors[0]["words"] == (
        "the weather at the departure airport (gusts 32 kt, visibility 2 mi) raises the chance"
    )
    assert advice == explain.ADVICE["weather"]
    # Without the flight's values (or with its weather unknown) the reason stays in general words.
    assert (
        explain.factors(result, 0)[0][0]["words"] == "the weather at the departure airport raises the chance"
    )
