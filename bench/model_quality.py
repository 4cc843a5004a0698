"""Model quality on a real holdout: train on Jan–Nov 2013, score every December flight with a label.

Prints one table (ROC-AUC, PR-AUC, Brier, F1, accuracy, fit and predict time) for the majority
class, the two seed models of the original design, and the project's winner as `flightdelay train`
picks it; then the time to fit the winner on all 336,776 flights. All figures come from this run.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from flightdelay import datasets, schema
from flightdelay.registry import Registry
from flightdelay.scoring import best_f1_threshold, scores
from flightdelay.storage import LocalStore
from training.models import CANDIDATES
from training.train import train


def row(name: str, y: np.ndarray, p: np.ndarray, threshold: float, fit: float, predict: float) -> str:
    s = scores(y, p, threshold)
    return (
        f"| {name:<34} | {s['roc_auc']:.4f} | {s['pr_auc']:.4f} | {s['brier']:.4f} | {s['f1']:.4f} "
        f"| {s['accuracy']:.4f} | {fit:7.1f} | {predict:7.2f} |"
    )


def main() -> None:
    december = schema.labelled(datasets.load_flights(start=datasets.TRAINING_END.replace(month=12, day=1)))
    y_dec = schema.target(december)
    print(f"December holdout: {len(december):,} labelled flights, base rate {y_dec.mean():.3f}")
    lines = [
        f"| {'model':<34} | ROC-AUC | PR-AUC | Brier  | F1     | accuracy | fit s   | pred s  |",
        f"|{'-' * 36}|---------|--------|--------|--------|----------|---------|---------|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(tmp)
        datasets.seed(store)
        registry = Registry(store)
        t0 = time.perf_counter()
        result = train(store, registry, progress=lambda m: print("  train:", m))
        train_seconds = time.perf_counter() - t0
        winner = registry.artifact(result.manifest.version).load()
        window = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END))
    y = schema.target(window)
    base = float(y.mean())
    lines.append(row("majority class (always on time)", y_dec, np.full(len(y_dec), base), 0.5, 0.0, 0.0))
    for name in ("logistic_regression", "random_forest"):
        t0 = time.perf_counter()
        model = CANDIDATES[name](42).fit(window, y)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = model.predict_proba(december)[:, 1]
        predict = time.perf_counter() - t0
        threshold = result.manifest.candidates[name]["threshold"]
        lines.append(row(f"seed model: {name}", y_dec, p, threshold, fit, predict))
    t0 = time.perf_counter()
    p = winner.predict_proba(december)[:, 1]
    predict = time.perf_counter() - t0
    lines.append(
        row(
            f"winner: {result.manifest.model_type}",
            y_dec,
            p,
            result.manifest.threshold,
            train_seconds,
            predict,
        )
    )
    print("\n".join(lines))
    print(
        f"(winner's fit time is the whole `flightdelay train`: 3 candidates + refit = {train_seconds:.1f} s)"
    )
    print(f"December F1-best threshold for the winner, for reference only: {best_f1_threshold(y_dec, p):.3f}")

    everything = schema.labelled(datasets.load_flights())
    t0 = time.perf_counter()
    CANDIDATES[result.manifest.model_type](42).fit(everything, schema.target(everything))
    full_fit = time.perf_counter() - t0
    print(
        f"Fit of the winner ({result.manifest.model_type}) on all 336,776 flights "
        f"({len(everything):,} with a label): {full_fit:.1f} s (target < 60 s)"
    )


if __name__ == "__main__":
    main()
