"""Seeding and training on real flights, staged through both storage backends."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flightdelay import datasets, schema
from flightdelay.errors import DataError
from flightdelay.features import feature_schema
from flightdelay.partitions import partition_dates, read_partitions
from flightdelay.registry import Registry
from flightdelay.storage import LocalStore, ObjectStore
from tests.factories import flights_slice, write_days
from training.train import train


@pytest.fixture(scope="module")
def winter() -> pd.DataFrame:
    return flights_slice("2013-01-01", "2013-03-31", every=8)


@pytest.fixture(scope="module")
def six_weeks(winter: pd.DataFrame) -> pd.DataFrame:
    """Enough days for a training part and the 30 validation days, for tests of what training
    does rather than how well: a day of reading costs as much as a day of fitting here."""
    return winter[winter["flight_date"] >= "2013-02-15"]


def test_seed_writes_each_day_as_a_partition(tmp_path: Path) -> None:
    """A month here; the whole of January-November in the slow test of the training container."""
    store = LocalStore(tmp_path)
    summary = datasets.seed(store, end=date(2013, 1, 31))
    days = partition_dates(store, "training")
    assert (days[0], days[-1], len(days)) == (date(2013, 1, 1), date(2013, 1, 31), 31)
    january = datasets.load_flights(date(2013, 1, 1), date(2013, 1, 31))
    assert summary["rows_written"] == len(january)
    assert summary["rows_dropped"] == 0
    stored = json.loads(store.get("training/seed-summary.json").data)
    assert stored["rows_written"] == summary["rows_written"]
    january_31 = read_partitions(store, "training", date(2013, 1, 31), date(2013, 1, 31))
    assert len(january_31) == len(datasets.load_flights(date(2013, 1, 31), date(2013, 1, 31)))


def test_seed_is_idempotent(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    datasets.seed(store, end=date(2013, 1, 31))  # a month: each day is written the same way
    before = {k: store.get(k).etag for k in store.list("training/") if k.endswith(".parquet")}
    assert len(before) == 31
    datasets.seed(store, end=date(2013, 1, 31))
    after = {k: store.get(k).etag for k in store.list("training/") if k.endswith(".parquet")}
    assert before == after


@pytest.mark.parametrize("store", ["s3"], indirect=True)  # staging on the local store: every other test
def test_training_stages_a_model_with_a_complete_manifest(
    store: ObjectStore, six_weeks: pd.DataFrame
) -> None:
    write_days(store, "training", six_weeks)
    registry = Registry(store)
    result = train(store, registry, candidates=["logistic_regression", "hist_gradient_boosting"], seed=7)
    m = result.manifest
    assert [s.version for s in registry.staged()] == [m.version]
    assert m.model_type in ("logistic_regression", "hist_gradient_boosting")
    assert set(m.candidates) == {"logistic_regression", "hist_gradient_boosting"}
    assert m.feature_schema == feature_schema()
    assert (m.training_data.start, m.training_data.end) == (date(2013, 2, 15), date(2013, 3, 31))
    assert m.training_data.rows == len(schema.labelled(six_weeks))
    assert m.validation_data is not None
    assert m.validation_data.start == date(2013, 3, 2)  # the last 30 days
    assert 0 < m.threshold < 1
    assert m.metrics["roc_auc"] == m.candidates[m.model_type]["roc_auc"] > 0.55
    for key in ("pr_auc", "brier", "f1", "accuracy"):
        assert key in m.metrics
    assert m.sklearn_version
    assert m.python_version
    assert m.sha256
    assert m.size_bytes > 0
    summary = json.loads(store.get(f"staging/{m.version}/data-summary.json").data)
    assert summary["rows_used"] == m.training_data.rows
    assert (
        summary["rows_dropped"]["no arrival delay (cancelled or diverted)"]
        == len(six_weeks) - m.training_data.rows
    )


@pytest.mark.parametrize("candidate", ["hist_gradient_boosting", "linear_and_boosting"])
def test_the_staged_model_predicts_from_normalized_rows(
    tmp_path: Path, six_weeks: pd.DataFrame, candidate: str
) -> None:
    """The model file loads back (a blend too: its class is one of the trusted types) and predicts."""
    store = LocalStore(tmp_path)
    write_days(store, "training", six_weeks)
    registry = Registry(store)
    manifest = train(store, registry, candidates=[candidate]).manifest
    model = registry.artifact(manifest.version, expected_features=feature_schema()).load()
    march = six_weeks[six_weeks["flight_date"] >= "2013-03-25"]
    p = model.predict_proba(march)[:, 1]
    assert p.shape == (len(march),)
    assert ((p > 0) & (p < 1)).all()


def test_training_is_deterministic_with_a_seed(tmp_path: Path, six_weeks: pd.DataFrame) -> None:
    store = LocalStore(tmp_path)
    write_days(store, "training", six_weeks)
    registry = Registry(store)
    runs = [
        train(store, registry, candidates=["random_forest", "hist_gradient_boosting"], seed=3, sample=5000)
        for _ in range(2)
    ]
    a, b = (r.manifest for r in runs)
    # Parallel tree averaging may differ in the last bit of a float; nothing more.
    for name in a.candidates:
        for metric in ("roc_auc", "brier", "f1", "threshold"):
            assert a.candidates[name][metric] == pytest.approx(b.candidates[name][metric], rel=1e-9)
    probe = six_weeks.head(200)
    pa = registry.artifact(a.version).load().predict_proba(probe)
    pb = registry.artifact(b.version).load().predict_proba(probe)
    np.testing.assert_allclose(pa, pb, rtol=1e-9)


def test_training_refuses_an_empty_window(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(DataError, match="no labelled flights"):
        train(store, Registry(store))


def test_training_refuses_a_one_class_window(tmp_path: Path, six_weeks: pd.DataFrame) -> None:
    store = LocalStore(tmp_path)
    on_time = six_weeks[six_weeks["arr_delay"] < 0]
    write_days(store, "training", on_time)
    with pytest.raises(DataError, match="only one class"):
        train(store, Registry(store))


def test_unknown_candidate_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(DataError, match="unknown candidate"):
        train(store, Registry(store), candidates=["xgboost"])
