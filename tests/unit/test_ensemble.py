"""The log-odds blend: its probability is the mean of its members' log-odds, on real flights."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from flightdelay import datasets, schema
from flightdelay.ensemble import LogOddsMean, blended_probability
from flightdelay.features import FlightFeatures
from training.models import _boosting, _linear


def test_the_blend_is_the_mean_of_its_members_log_odds() -> None:
    flights = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END).iloc[::60])
    X = FlightFeatures().fit(flights).transform(flights)
    y = schema.target(flights)
    blend = LogOddsMean([("linear", _linear(0)), ("boosting", _boosting(0, trees=20))]).fit(X, y)
    alone = [_linear(0).fit(X, y), _boosting(0, trees=20).fit(X, y)]  # the same fits, made apart
    p = [member.predict_proba(X)[:, 1] for member in alone]
    np.testing.assert_allclose(
        blend.predict_proba(X)[:, 1], expit((logit(p[0]) + logit(p[1])) / 2), rtol=1e-12
    )
    np.testing.assert_allclose(blend.decision_function(X), (logit(p[0]) + logit(p[1])) / 2, rtol=1e-12)
    assert set(blend.predict(X)) <= {0, 1}
    # The two members disagree on some flights: the blend lies between them there.
    lo, hi = np.minimum(*p), np.maximum(*p)
    assert (hi - lo).max() > 0.05
    assert ((blend.predict_proba(X)[:, 1] >= lo - 1e-12) & (blend.predict_proba(X)[:, 1] <= hi + 1e-12)).all()


def test_a_member_that_is_certain_still_gives_a_finite_blend_between_the_members() -> None:
    blended = blended_probability([np.array([1.0, 0.0, 0.5]), np.array([0.2, 0.9, 0.5])])
    assert np.isfinite(blended).all()
    assert 0.5 < blended[0] < 1.0
    assert 0.0 < blended[1] < 0.5
    assert blended[2] == pytest.approx(0.5)


def test_more_than_two_classes_are_refused() -> None:
    X, y = np.arange(9.0).reshape(-1, 1), np.array([0, 1, 2] * 3)
    members = [("a", LogisticRegression()), ("b", DummyClassifier())]
    with pytest.raises(ValueError, match="two classes, not 3"):
        LogOddsMean(members).fit(X, y)
