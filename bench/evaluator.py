"""Evaluator speed: one evaluation of a 7-day December window (about 6,000 flights), candidate vs a
live model, 1,000 paired bootstrap resamples and the HTML report included."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime

from flightdelay import datasets, layout, schema
from flightdelay.config import get_settings
from flightdelay.features import feature_schema
from flightdelay.partitions import write_partition
from flightdelay.registry import DataWindow, ModelMetadata, Registry, dumps
from flightdelay.storage import LocalStore
from services.evaluator.evaluate import evaluate
from training.models import hist_gradient_boosting, logistic_regression


def _stage(registry: Registry, model: object, name: str, minute: int) -> str:
    meta = ModelMetadata(
        model_type=name,
        feature_schema=feature_schema(),
        threshold=0.3,
        training_data=DataWindow(start=date(2013, 1, 1), end=date(2013, 11, 30), rows=1, base_rate=0.2),
    )
    return registry.stage(dumps(model), meta, now=datetime(2026, 1, 1, 0, minute, tzinfo=UTC)).version


def main() -> None:
    flights = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END).iloc[::4])
    y = schema.target(flights)
    live_model = logistic_regression(0).fit(flights, y)
    candidate_model = hist_gradient_boosting(0).fit(flights, y)
    week = datasets.load_flights(date(2013, 12, 1), date(2013, 12, 7))
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(tmp)
        for day, rows in week.groupby(week["flight_date"].dt.date):
            write_partition(store, layout.NEW_CLEAN, day, rows)
        registry = Registry(store)
        registry.promote(_stage(registry, live_model, "logistic_regression", 0), reason="bench setup")
        _stage(registry, candidate_model, "hist_gradient_boosting", 1)
        settings = get_settings(eval_bootstrap_resamples=1000)
        t0 = time.perf_counter()
        outcome = evaluate(settings, store, registry, end=date(2013, 12, 7))
        seconds = time.perf_counter() - t0
    print(
        f"evaluate a 7-day window ({outcome.evaluation.window.rows if outcome.evaluation else 0:,} labelled flights, 1,000 resamples, "
        f"report): {seconds:.2f} s (target < 10 s); verdict {outcome.verdict}: {outcome.reason}"
    )


if __name__ == "__main__":
    main()
