"""Watch the live model: join the API's answers about a day's flights with what happened, and
compare the last week's flights with the training data.

answers (predictions/date=D) ─┐ last answer per flight
outcomes (new/clean/date=D) ──┴▶ live quality: ROC-AUC, Brier, calibration, flag accuracy, by origin, carrier
training window ───────────────┐
new/clean, 7 days to D ────────┴▶ drift: PSI per model input, late share, unknown categories
                                      │
                                      ▼
            registry.record_monitoring ─▶ monitoring/date=D.json; metrics (CloudWatch EMF) and alarms
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from flightdelay import answers, layout, schema
from flightdelay.config import Settings
from flightdelay.features import CATEGORICAL, FEATURES, TIMETABLE, FlightFeatures
from flightdelay.partitions import read_partitions
from flightdelay.records import DataWindow, Drift, LiveScores, Manifest, Monitoring
from flightdelay.registry import Registry
from flightdelay.scoring import calibration_error, population_stability
from flightdelay.storage import ObjectStore

log = logging.getLogger(__name__)
DRIFT_DAYS = 7
REFERENCE_SAMPLE = 60_000  # enough for stable deciles; keeps the daily run to seconds
MIN_SLICE_FLIGHTS = 30  # an origin or carrier with fewer flights that day is not reported alone
# A week covers a narrow slice of the calendar by construction (days to the next holiday above
# all: PSI 3.3 every December week against a whole year), so calendar inputs are not drift.
CALENDAR = ("weekday", "days_to_holiday")


def live_scores(y: np.ndarray, p: np.ndarray, flag: np.ndarray) -> LiveScores:
    both = len(np.unique(y)) == 2
    return LiveScores(
        flights=len(y),
        late_share=round(float(y.mean()), 4),
        mean_probability=round(float(p.mean()), 4),
        brier=round(float(np.mean((p - y) ** 2)), 4),
        flag_accuracy=round(float((flag == y.astype(bool)).mean()), 4),
        roc_auc=round(float(roc_auc_score(y, p)), 4) if both else None,
        calibration_error=round(calibration_error(y, p), 4),
    )


def joined(data: ObjectStore, day: date) -> tuple[pd.DataFrame, int]:
    """The day's answered flights with their outcome (the last answer about each), and how many
    answers there were in all."""
    asked = answers.read(data, day)
    outcomes = schema.labelled(read_partitions(data, layout.NEW_CLEAN, day, day))
    if asked.empty or outcomes.empty:
        return pd.DataFrame(), len(asked)
    last = asked.drop_duplicates(answers.JOIN_KEY, keep="last")
    last = last.assign(sched_dep_local=last["sched_dep_local"].astype(schema.LOCAL))
    outcome = outcomes.assign(sched_dep_local=outcomes["sched_dep_local"].astype(schema.LOCAL))[
        [*answers.JOIN_KEY, "arr_delay"]
    ].drop_duplicates(answers.JOIN_KEY, keep=False)  # two flights one key: which was asked is unknown
    return last.merge(outcome, on=answers.JOIN_KEY, how="inner"), len(asked)


def _by(frame: pd.DataFrame, column: str) -> dict[str, LiveScores]:
    out = {}
    for value, rows in frame.groupby(column):
        if len(rows) >= MIN_SLICE_FLIGHTS:
            out[str(value)] = live_scores(
                schema.target(rows), rows["probability"].to_numpy(float), rows["delayed"].to_numpy(bool)
            )
    return out


def drift(
    data: ObjectStore, manifest: Manifest, features: FlightFeatures, day: date, threshold: float
) -> Drift | None:
    """The last DRIFT_DAYS of fetched flights against a sample of the model's training window."""
    recent = read_partitions(data, layout.NEW_CLEAN, day - timedelta(days=DRIFT_DAYS - 1), day)
    window = manifest.training_data
    reference = _reference(data, window.start, window.end)
    if recent.empty or reference.empty:
        return None
    ref_x, new_x = features.transform(reference), features.transform(recent)
    inputs = [name for name in (*CATEGORICAL, *TIMETABLE) if name not in CALENDAR]
    psi = {
        name: round(
            population_stability(
                ref_x[:, FEATURES.index(name)],
                new_x[:, FEATURES.index(name)],
                categorical=name in CATEGORICAL,
            ),
            4,
        )
        for name in inputs
    }
    unknown = {name: round(float(np.isnan(new_x[:, FEATURES.index(name)]).mean()), 4) for name in CATEGORICAL}
    ref_late, new_late = (float(schema.target(schema.labelled(f)).mean()) for f in (reference, recent))
    late_moved = abs(new_late - ref_late) > threshold / 2  # 0.1 of late share at the default 0.2
    max_psi = max(psi.values())
    return Drift(
        reference=_window(reference, window.start, window.end),
        recent=_window(recent, day - timedelta(days=DRIFT_DAYS - 1), day),
        psi=psi,
        unknown_share=unknown,
        max_psi=max_psi,
        drifted=max_psi > threshold or late_moved,
        threshold=threshold,
    )


_references: dict[tuple[str, date, date], pd.DataFrame] = {}


def _reference(data: ObjectStore, start: date, end: date) -> pd.DataFrame:
    """A sample of the training window's flights; read once per process and window, since a run
    over several days compares each with the same training data."""
    key = (data.url, start, end)
    if key not in _references:
        flights = pd.concat(
            [read_partitions(data, prefix, start, end) for prefix in (layout.TRAINING, layout.NEW_CLEAN)],
            ignore_index=True,
        ).drop_duplicates(schema.FLIGHT_KEY, keep="last")
        if len(flights) > REFERENCE_SAMPLE:
            flights = flights.sample(n=REFERENCE_SAMPLE, random_state=0)
        _references.clear()  # one window at a time: bounded memory in a long-lived process
        _references[key] = flights
    return _references[key]


def _window(flights: pd.DataFrame, start: date, end: date) -> DataWindow:
    labelled = schema.labelled(flights)
    return DataWindow(
        start=start,
        end=end,
        rows=len(flights),
        base_rate=round(float(schema.target(labelled).mean()), 4) if len(labelled) else 0.0,
    )


def monitor(
    settings: Settings,
    data: ObjectStore,
    registry: Registry,
    day: date,
    *,
    now: datetime | None = None,
    emit: Callable[[str], None] | None = None,
) -> Monitoring:
    """Watch one departure day: record how the live model's answers fared and how far the data
    has moved, and emit them as metrics. Days with no answers or no outcomes still get a record."""
    now = now or datetime.now(UTC)
    rows, asked = joined(data, day)
    versions = rows["model_version"].value_counts().to_dict() if len(rows) else {}
    version = max(versions, key=lambda v: versions[v]) if versions else registry.live_version()
    quality = (
        live_scores(schema.target(rows), rows["probability"].to_numpy(float), rows["delayed"].to_numpy(bool))
        if len(rows)
        else None
    )
    shift = None
    if version is not None:
        artifact = registry.artifact(version, "prod")
        model = artifact.load()
        features = getattr(model, "steps", [(None, None)])[0][1]
        if isinstance(features, FlightFeatures):  # every model training makes; else no drift figures
            shift = drift(data, artifact.manifest, features, day, settings.monitor_drift_psi)
    alarms = []
    if quality and quality.roc_auc is not None and quality.roc_auc < settings.eval_min_roc_auc:
        alarms.append(
            f"live ROC-AUC {quality.roc_auc:.3f} on {quality.flights} flights is below the bar "
            f"{settings.eval_min_roc_auc:.2f}"
        )
    if shift and shift.drifted:
        alarms.append(drift_alarm(shift))
    record = Monitoring(
        day=day,
        created_at=now,
        model_version=version,
        answers=asked,
        versions={str(k): int(v) for k, v in versions.items()},
        quality=quality,
        by_origin=_by(rows, "origin") if len(rows) else {},
        by_carrier=_by(rows, "carrier") if len(rows) else {},
        drift=shift,
        alarms=alarms,
    )
    registry.record_monitoring(record)
    (emit or _to_stderr)(metrics_line(record, settings.metrics_namespace))
    return record


def drift_alarm(shift: Drift) -> str:
    """The drift alarm in words, the largest cause first: a moved late share is what a person
    must know (the model's probabilities are off by about that much), an input's PSI comes after."""
    late = (
        f"late share {shift.reference.base_rate:.1%} in training, {shift.recent.base_rate:.1%} in the last "
        f"{DRIFT_DAYS} days"
    )
    over = sorted((n for n in shift.psi if shift.psi[n] > shift.threshold), key=lambda n: -shift.psi[n])
    inputs = ", ".join(f"{n} PSI {shift.psi[n]:.2f}" for n in over)
    bar = f" (bar {shift.threshold:.2f})" if over else ""
    if abs(shift.recent.base_rate - shift.reference.base_rate) > shift.threshold / 2:  # as drift() decides
        return f"drift: {late}" + (f"; inputs moved too: {inputs}{bar}" if over else "")
    return f"drift: {inputs}{bar}; {late}"


def _to_stderr(line: str) -> None:
    """The metrics line, for CloudWatch (an ECS task's output); a person at a terminal reads the
    watch's own lines instead. stdout is the stage's JSON summary."""
    if not sys.stderr.isatty():
        sys.stderr.write(line + "\n")


def metrics_line(record: Monitoring, namespace: str) -> str:
    """The record's figures as one CloudWatch embedded-metric-format line: CloudWatch Logs turns it
    into metrics with no extra permission, and the alarms watch them."""
    values: dict[str, float] = {"LiveAnswers": float(record.answers)}
    if record.quality:
        values["LiveFlights"] = float(record.quality.flights)
        values["LiveBrier"] = record.quality.brier
        values["LiveFlagAccuracy"] = record.quality.flag_accuracy
        if record.quality.roc_auc is not None:
            values["LiveRocAuc"] = record.quality.roc_auc
    if record.drift:
        values["DriftMaxPsi"] = record.drift.max_psi
        values["RecentLateShare"] = record.drift.recent.base_rate
        values["DriftDetected"] = 1.0 if record.drift.drifted else 0.0
    values = {k: v for k, v in values.items() if not math.isnan(v)}
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {"Namespace": namespace, "Dimensions": [[]], "Metrics": [{"Name": n} for n in values]}
                ],
            },
            "stage": "monitor",
            "day": record.day.isoformat(),
            "model_version": record.model_version,
            **values,
        }
    )


def summary(record: Monitoring) -> dict[str, Any]:
    return {
        "stage": "monitor",
        "day": record.day.isoformat(),
        "model_version": record.model_version,
        "answers": record.answers,
        "quality": record.quality.model_dump() if record.quality else None,
        "drift": {"max_psi": record.drift.max_psi, "drifted": record.drift.drifted} if record.drift else None,
        "alarms": record.alarms,
    }
