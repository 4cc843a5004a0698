"""Serving: flights as a traveller gives them → model inputs, and fast inference on them.

``Flights`` are flights as asked about (wall-clock times at each airport), as columns, converted to
UTC once and checked as a batch (``asked``); ``feature_matrix`` turns them into the model's inputs
through the same ``FlightFeatures.compute`` that training's DataFrames go through.

Fast inference: the fitted estimator's own numbers, without per-call overhead.

scikit-learn spends milliseconds per ``predict_proba`` call on checks and thread pools, whatever the
batch size: a 60-tree random forest takes ~9 ms for one row here, of which ~1 ms is arithmetic.
For the estimators the project trains, this module calls the fitted parts directly: the forest's
``Tree.apply`` and leaf values, the boosted trees' ``_predict_from_raw_data`` (the Cython routines
scikit-learn uses inside ``predict_proba``), for the logistic regression its one-hot block as a
lookup read from the fitted encoder and its imputer's, scaler's and model's own arithmetic, and for
a log-odds blend its members' forms; probabilities are identical (a test asserts equality).
Anything else falls back to ``predict_proba``, and so does every model when the installed
scikit-learn is outside ``SUPPORTED_SKLEARN``, the releases whose private names these forms read.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cache
from importlib.metadata import version
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from packaging.specifiers import SpecifierSet
from scipy import sparse
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from flightdelay import rotation, schema
from flightdelay.airports import timezones
from flightdelay.conditions import Known
from flightdelay.ensemble import LogOddsMean, blended_probability
from flightdelay.features import FlightFeatures
from flightdelay.schema import LOCAL, local_to_utc, localize

Predictor = Callable[[np.ndarray], np.ndarray]
log = logging.getLogger(__name__)

# The scikit-learn releases these forms are tested with (uv.lock's, bit for bit by test_serving.py)
# up to the next minor release, which may rename the private names they read (SKLEARN_PRIVATE; the
# guard test checks each). Kept rather than a library's serving, as measured by
# `python -m bench.serving_libraries` on 2026-12-03 (the blend's 60-tree boosting, one thread):
# ONNX Runtime: skl2onnx 1.20 (and onnxmltools, which calls it) cannot convert the boosting (a bool
# in an ints attribute); worked around, its graph ignores the categorical splits (max diff 0.32).
# treelite 4.8: handles them, but not exactly equal (4.4e-16: the trees summed in another order);
# tl2cgen's compiled C is faster (a flight ~22 vs ~250 µs) and GTIL slower on a batch (~190 vs ~60 ms).
SUPPORTED_SKLEARN = ">=1.9.1,<1.10"
SKLEARN_PRIVATE = (
    "sklearn.ensemble._hist_gradient_boosting._predictor._predict_from_raw_data",
    "HistGradientBoostingClassifier._predictors (TreePredictor.nodes, .raw_left_cat_bitsets)",
    "HistGradientBoostingClassifier._bin_mapper.make_known_categories_bitsets",
    "HistGradientBoostingClassifier._baseline_prediction",
    "HistGradientBoostingClassifier._loss.predict_proba",
    "OneHotEncoder._transform",
    "OneHotEncoder._n_features_outs",
)


class UnsupportedScikitLearn(RuntimeWarning):
    """The installed scikit-learn is outside SUPPORTED_SKLEARN: models are served by predict_proba."""


def in_supported_range(installed: str, supported: str = SUPPORTED_SKLEARN) -> bool:
    """Whether a scikit-learn version is within a range such as ``>=1.9.1,<1.10`` (PEP 440, by
    ``packaging``; a pre-release or a development build is never in it: none was tested)."""
    return SpecifierSet(supported).contains(installed, prereleases=False)


@cache
def sklearn_internals_usable() -> bool:
    """Whether the installed scikit-learn is one these forms are tested with; if not, says so once.

    Outside the range a form could fail or, worse, silently compute something else; its model's own
    ``predict_proba`` gives the right numbers, only slower (the blend's flight ~0.4 → ~6 ms), so
    serving goes on with it rather than refusing to start. The loud failure is the guard test's,
    in CI, before such a release is deployed."""
    installed = version("scikit-learn")
    if in_supported_range(installed):
        return True
    message = (
        f"scikit-learn {installed} is outside {SUPPORTED_SKLEARN}, the releases flightdelay.serving is "
        f"tested with: its fast forms read private names ({'; '.join(SKLEARN_PRIVATE)}) that another "
        "release may rename or change, so every model is served by its own predict_proba (the same "
        "numbers, slower) until SUPPORTED_SKLEARN is moved after bench.serving_libraries and the "
        "serving tests pass on it"
    )
    # A warning for whoever runs Python (pytest turns it into an error); a log line for the operator.
    warnings.warn(message, UnsupportedScikitLearn, stacklevel=3)
    log.warning(message)
    return False


@dataclass(frozen=True)
class Flights:
    """Flights as asked about, as columns: codes as object arrays of str; times as naive
    datetime64[m], NaT where unknown: the wall-clock times at each airport, and the same instants in
    UTC (NaT where the airport's zone is unknown or no arrival was given). No Python object per
    flight: the event loop builds, buffers and slices a 10,000-flight batch in a few array calls."""

    carrier: np.ndarray
    origin: np.ndarray
    dest: np.ndarray
    departure_local: np.ndarray
    arrival_local: np.ndarray
    departure_utc: np.ndarray
    arrival_utc: np.ndarray
    # Which flight and which aircraft, where the caller named them (None: named for no flight; an
    # object array of str or None per flight otherwise): rotation.py's keys.
    flight_number: np.ndarray | None = None
    tail_number: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.carrier)

    def column(self, name: str) -> np.ndarray:
        """A column, an optional one as None per flight where it was not given."""
        values: np.ndarray | None = getattr(self, name)
        return values if values is not None else np.full(len(self), None, dtype=object)

    def __getitem__(self, rows: slice) -> Flights:
        return Flights(**{name: self.column(name)[rows] for name in _COLUMNS})

    @staticmethod
    def concat(parts: Sequence[Flights]) -> Flights:
        if len(parts) == 1:
            return parts[0]
        return Flights(**{name: np.concatenate([part.column(name) for part in parts]) for name in _COLUMNS})


_COLUMNS = tuple(field.name for field in fields(Flights))


def scheduled(
    carrier: Sequence[str],
    origin: Sequence[str],
    dest: Sequence[str],
    departure_local: np.ndarray,
    arrival_local: np.ndarray | None = None,
) -> Flights:
    """Flights from their codes and local times (datetime64[m]; arrivals NaT or None where not
    given), their times converted to UTC once, in each airport's zone."""
    origins, dests = np.asarray(origin, dtype=object), np.asarray(dest, dtype=object)
    departure_local = np.asarray(departure_local, dtype="datetime64[m]")
    if arrival_local is None:
        arrival_local = np.full(len(departure_local), np.datetime64("NaT"), dtype="datetime64[m]")
    arrival_local = np.asarray(arrival_local, dtype="datetime64[m]")
    zones = timezones()
    return Flights(
        np.asarray(carrier, dtype=object),
        origins,
        dests,
        departure_local,
        arrival_local,
        to_utc(departure_local, [zones.get(code) for code in origins]),
        to_utc(arrival_local, [zones.get(code) for code in dests]),
    )


def to_utc(local: np.ndarray, zones: Sequence[str | None]) -> np.ndarray:
    """Naive wall-clock times (datetime64[m]) in each row's IANA zone → naive UTC datetime64[m],
    NaT where the time is NaT or the zone unknown, by ``schema.localize`` (a test holds it equal to
    ``schema.local_to_utc``, which a few flights use, minute by minute across DST)."""
    utc = localize(pd.Series(local.astype(LOCAL)), pd.Series(zones, dtype=object))
    converted: np.ndarray = utc.dt.tz_localize(None).to_numpy().astype("datetime64[m]")
    return converted


# Below this many flights, checking them one by one (zoneinfo: a few µs a time) beats arrays (numpy
# costs ~1 µs an operation whatever the size, pandas' conversion ~0.3 ms a zone).
ONE_BY_ONE_ROWS = 64


# What is wrong with a flight as asked: its row, the time it is about ("departure", "arrival"; None:
# the flight as a whole), and why.
Problem = tuple[int, str | None, str]
YEARS = (1990, 2060)
NAIVE = "give the airport's local time without a UTC offset"
WRONG_YEAR = f"year must be between {YEARS[0]} and {YEARS[1]}"
SAME_AIRPORT = "dest must differ from origin"
WRONG_ARRIVAL = "scheduled_arrival must be after scheduled_departure and within 20 hours"
# Where a zone is unknown, wall clocks are compared with this slack (time zones span at most 26 h).
WALL_CLOCK_SLACK = timedelta(hours=14)
_TIMES = ("departure", "arrival")


class Given(NamedTuple):
    """Flights as a traveller gives them, as columns."""

    carrier: Sequence[str]
    origin: Sequence[str]
    dest: Sequence[str]
    departure_local: Sequence[datetime]
    arrival_local: Sequence[datetime | None]


def asked(
    carrier: Sequence[str],
    origin: Sequence[str],
    dest: Sequence[str],
    departure_local: Sequence[datetime],
    arrival_local: Sequence[datetime | None],
) -> tuple[Flights, list[Problem]]:
    """Flights as a traveller gives them (local times without UTC offset, whole minutes counted),
    and every problem of every flight, by row; the flights are meaningful only without problems.

    A few flights are checked one by one (a /predict call: numpy costs ~1 µs an operation, whatever
    the size); many, as arrays (a batch: Python costs ~1 µs a flight). A test holds both equal."""
    given = Given(carrier, origin, dest, departure_local, arrival_local)
    return _one_by_one(given) if len(carrier) < ONE_BY_ONE_ROWS else _together(given)


def _in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p[0], p[1] is None, p[1] or "", p[2]))


def _one_by_one(given: Given) -> tuple[Flights, list[Problem]]:
    carrier, origin, dest, departure_local, arrival_local = given
    zones = timezones()
    problems: list[Problem] = []
    local: dict[str, list[datetime | None]] = {"departure": [], "arrival": []}
    utc: dict[str, list[datetime | None]] = {"departure": [], "arrival": []}
    for i, (o, d, *times) in enumerate(zip(origin, dest, departure_local, arrival_local, strict=True)):
        for which, t, zone in zip(_TIMES, times, (zones.get(o), zones.get(d)), strict=True):
            if t is not None and t.tzinfo is not None:
                problems.append((i, which, NAIVE))
                t = t.replace(tzinfo=None)
            if t is not None and not YEARS[0] <= t.year <= YEARS[1]:
                problems.append((i, which, WRONG_YEAR))
                t = None  # out of every converter's range; refused anyway
            t = t.replace(second=0, microsecond=0) if t is not None else None
            local[which].append(t)
            utc[which].append(local_to_utc(t, zone) if t is not None else None)
        if o == d:
            problems.append((i, None, SAME_AIRPORT))
        departure, arrival = local["departure"][i], local["arrival"][i]
        if departure is not None and arrival is not None:
            start, end = utc["departure"][i], utc["arrival"][i]
            if start is None or end is None:  # an unknown zone: wall clocks, with the slack
                start, end = departure, arrival + WALL_CLOCK_SLACK
            if not timedelta(0) < end - start <= timedelta(minutes=schema.MAX_BLOCK_MINUTES):
                problems.append((i, None, WRONG_ARRIVAL))
    # Two array calls in all: numpy's cost is per call, not per flight.
    codes = np.empty((3, len(carrier)), dtype=object)
    codes[:] = carrier, origin, dest
    instants = minutes([*local["departure"], *local["arrival"], *utc["departure"], *utc["arrival"]])
    flights = Flights(*codes, *instants.reshape(4, len(carrier)))
    return flights, _in_order(problems)


def _together(given: Given) -> tuple[Flights, list[Problem]]:
    carrier, origin, dest, departure_local, arrival_local = given
    problems: list[Problem] = []
    times: dict[str, list[datetime | None]] = {
        "departure": list(departure_local),
        "arrival": list(arrival_local),
    }
    for which, values in times.items():
        for i, t in enumerate(values):
            if t is None:
                continue
            if t.tzinfo is not None:
                problems.append((i, which, NAIVE))
                t = values[i] = t.replace(tzinfo=None)
            if not YEARS[0] <= t.year <= YEARS[1]:
                problems.append((i, which, WRONG_YEAR))
                values[i] = None  # out of every converter's range; refused anyway
    # Every year is in pandas' range now: its C conversion of datetime objects, whole minutes kept,
    # is 4x quicker than ``minutes`` (20,000 times: 6.5 -> 1.8 ms).
    local = {
        which: pd.DatetimeIndex(values).to_numpy().astype("datetime64[m]") for which, values in times.items()
    }
    flights = scheduled(carrier, origin, dest, local["departure"], local["arrival"])
    problems += [(int(i), None, SAME_AIRPORT) for i in np.flatnonzero(flights.origin == flights.dest)]
    zoned = ~np.isnat(flights.departure_utc) & ~np.isnat(flights.arrival_utc)
    block = np.where(
        zoned,
        flights.arrival_utc - flights.departure_utc,
        flights.arrival_local + np.timedelta64(WALL_CLOCK_SLACK) - flights.departure_local,
    )
    both = ~np.isnat(flights.arrival_local) & ~np.isnat(flights.departure_local)
    outside = (block <= np.timedelta64(0)) | (block > np.timedelta64(schema.MAX_BLOCK_MINUTES, "m"))
    problems += [(int(i), None, WRONG_ARRIVAL) for i in np.flatnonzero(both & outside)]
    return flights, _in_order(problems)


def feature_matrix(
    features: FlightFeatures,
    flights: Flights,
    at_origin: Known | None = None,
    aircraft: rotation.Known | None = None,
) -> np.ndarray:
    """The model inputs of a batch of flights, with the conditions known at their origins and their
    aircraft's previous flight (None: unknown): the same numbers ``features.transform`` gives."""
    matrix: np.ndarray = features.compute(
        carrier=flights.carrier,
        origin=flights.origin,
        dest=flights.dest,
        dep_local=flights.departure_local,
        arr_local=flights.arrival_local,
        dep_utc=flights.departure_utc,
        arr_utc=flights.arrival_utc,
        at_origin=at_origin,
        aircraft=aircraft,
    )
    return matrix


_EPOCH, _ONE_MINUTE = datetime(1970, 1, 1), timedelta(minutes=1)
_NAT = np.iinfo(np.int64).min  # numpy's NaT, as an integer


def minutes(times: Sequence[datetime | None]) -> np.ndarray:
    """Naive datetimes (None for unknown) → datetime64[m], NaT where unknown. Whole minutes since
    the epoch by integer arithmetic: 5x quicker than numpy's parsing of datetime objects (bench)."""
    minutes = np.fromiter(
        ((t - _EPOCH) // _ONE_MINUTE if t is not None else _NAT for t in times),
        dtype=np.int64,
        count=len(times),
    )
    return minutes.view("datetime64[m]")


def _imputer(step: SimpleImputer) -> Callable[[np.ndarray], np.ndarray]:
    fill = np.asarray(step.statistics_, dtype=float)

    def impute(X: np.ndarray) -> np.ndarray:
        filled: np.ndarray = np.where(np.isnan(X), fill, X)
        return filled

    return impute


# From this many rows, a forest's rows are split across the cores (each part sums its trees in the
# same order, so the probabilities stay exact): a 10,000-flight batch 15 -> 8 ms on 2 cores (bench).
FOREST_SPLIT_ROWS = 1024


_CORES = os.cpu_count() or 1


@cache
def _cores() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_CORES, thread_name_prefix="forest")


def _forest(forest: RandomForestClassifier) -> Predictor:
    trees = [estimator.tree_ for estimator in forest.estimators_]
    positive = int(np.flatnonzero(forest.classes_ == 1)[0])
    # Each leaf's share of the positive class (Tree.predict's own values, which predict_proba
    # averages), read by leaf id: Tree.predict costs ~1 µs a tree more (60 trees: 234 -> 186 µs).
    leaves = [np.ascontiguousarray(tree.value[:, 0, positive]) for tree in trees]

    def predict_rows(Z: np.ndarray) -> np.ndarray:
        total = np.zeros(len(Z))
        for tree, fractions in zip(trees, leaves, strict=True):
            total += fractions[tree.apply(Z)]
        probability: np.ndarray = total / len(trees)
        return probability

    def predict(X: np.ndarray) -> np.ndarray:
        Z = np.ascontiguousarray(X, dtype=np.float32)
        if len(Z) < FOREST_SPLIT_ROWS:
            return predict_rows(Z)
        return np.concatenate(list(_cores().map(predict_rows, np.array_split(Z, _CORES))))

    return predict


# Above this many rows, scikit-learn's own predict_proba (each tree on every core) is quicker.
BOOSTING_ONE_THREAD_ROWS = 512


def _boosting(model: HistGradientBoostingClassifier) -> Predictor | None:
    """scikit-learn's own tree routine, called for each tree without its per-call wrapping (~12 µs a
    tree, 3.6 ms for 300 trees even for one row; ~4 µs here): the leaf values added in its order,
    then its own link function, so the probabilities are identical (a test asserts equality)."""
    if model.n_trees_per_iteration_ != 1:
        return None  # multi-class: not a model this project trains
    # Imported here, past the version check: a release that moves this private module then costs
    # the fast form, not the import of the whole serving module.
    from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data

    trees = [(iteration[0].nodes, iteration[0].raw_left_cat_bitsets) for iteration in model._predictors]
    known_categories, feature_to_known = model._bin_mapper.make_known_categories_bitsets()
    baseline = float(model._baseline_prediction.ravel()[0])

    def predict(X: np.ndarray) -> np.ndarray:
        if len(X) > BOOSTING_ONE_THREAD_ROWS:
            large: np.ndarray = model.predict_proba(X)[:, 1]
            return large
        X = np.ascontiguousarray(X, dtype=np.float64)
        raw, leaf_values = np.full(len(X), baseline), np.empty(len(X))
        for nodes, category_bitsets in trees:
            _predict_from_raw_data(
                nodes, X, category_bitsets, known_categories, feature_to_known, 1, leaf_values
            )
            raw += leaf_values
        probability: np.ndarray = model._loss.predict_proba(raw)[:, 1]
        return probability

    return predict


def _one_hot(step: Pipeline) -> tuple[Callable[[np.ndarray], np.ndarray], int] | None:
    """A fitted (constant SimpleImputer → OneHotEncoder ignoring unknowns) as a lookup from each
    column's value to its output column (-1: none), read from the encoder itself at load: the
    columns of the ones its transform sets, without the ~1.2 ms of checks around it; and its width."""
    steps = list(step.named_steps.values())
    if not (
        len(steps) == 2
        and isinstance(steps[0], SimpleImputer)
        and steps[0].strategy == "constant"
        and not steps[0].add_indicator
        and isinstance(steps[1], OneHotEncoder)
        and steps[1].handle_unknown == "ignore"
        and steps[1].drop is None
        and steps[1].sparse_output
        and not any(np.isnan(np.asarray(c, dtype=float)).any() for c in steps[1].categories_)
    ):
        return None  # a NaN category would need NaN to equal itself in the lookup
    impute, encoder = steps
    fill = float(impute.statistics_[0])
    offsets = np.cumsum([0, *encoder._n_features_outs])
    lookups = []  # per input column: its sorted categories, and each one's output column (-1: none)
    for j, categories in enumerate(encoder.categories_):
        probe = np.tile([c[0] for c in encoder.categories_], (len(categories), 1)).astype(float)
        probe[:, j] = categories
        codes, known = encoder._transform(probe, handle_unknown="ignore", ensure_all_finite="allow-nan")
        lookups.append(
            (np.asarray(categories, dtype=float), np.where(known[:, j], offsets[j] + codes[:, j], -1))
        )

    def transform(X: np.ndarray) -> np.ndarray:
        filled = np.where(np.isnan(X), fill, X)
        found = np.empty(filled.shape, dtype=np.int64)
        for j, (categories, output) in enumerate(lookups):
            at = np.minimum(np.searchsorted(categories, filled[:, j]), len(categories) - 1)
            found[:, j] = np.where(categories[at] == filled[:, j], output[at], -1)
        return found

    return transform, int(offsets[-1])


def _scaled(step: Pipeline) -> Callable[[np.ndarray], np.ndarray] | None:
    """A fitted (median SimpleImputer with missing indicators → StandardScaler) as its arithmetic:
    the medians filled in, the indicators appended, then the scaler's subtract-and-divide, the
    same operations in the same order as their transforms (without ~0.4 ms of checks)."""
    steps = list(step.named_steps.values())
    if not (
        len(steps) == 2
        and isinstance(steps[0], SimpleImputer)
        and steps[0].add_indicator
        and isinstance(steps[1], StandardScaler)
        and steps[1].with_mean
        and steps[1].with_std
        and not np.isnan(steps[0].statistics_).any()  # no column dropped as empty at fit
    ):
        return None
    impute, scale = steps
    fill, indicated = np.asarray(impute.statistics_, dtype=float), impute.indicator_.features_
    mean, spread = scale.mean_, scale.scale_

    def transform(X: np.ndarray) -> np.ndarray:
        missing = np.isnan(X)
        joined = np.hstack([np.where(missing, fill, X), missing[:, indicated].astype(float)])
        scaled: np.ndarray = (joined - mean) / spread
        return scaled

    return transform


def _linear(encode: ColumnTransformer, model: LogisticRegression) -> Predictor | None:
    """The logistic regression's pipeline with its one-hot block looked up (_one_hot) and its numbers
    by the same arithmetic (_scaled), joined row by row as ColumnTransformer joins them (its
    ``sparse.hstack`` drops the numbers' zeros), then the model's own arithmetic for two classes
    (``decision_function``'s product and intercept, ``_predict_proba_lr``'s expit) without its checks:
    the same numbers bit for bit (a test asserts it); one flight 3.0 ms → ~0.1 ms."""
    named = {name: (transformer, columns) for name, transformer, columns in encode.transformers_}
    if not encode.sparse_output_ or list(named) != ["categories", "numbers"] or len(model.classes_) != 2:
        return None
    (categories, category_columns), (numbers, number_columns) = named["categories"], named["numbers"]
    one_hot = _one_hot(categories) if isinstance(categories, Pipeline) else None
    scaled = _scaled(numbers) if isinstance(numbers, Pipeline) else None
    if one_hot is None or scaled is None:
        return None
    (hot_columns, width), coef, intercept = one_hot, model.coef_.T, model.intercept_

    def predict(X: np.ndarray) -> np.ndarray:
        hot, values = hot_columns(X[:, category_columns]), scaled(X[:, number_columns])
        # Each row: its one-hot columns, then its numbers' nonzero columns, in column order.
        columns = np.hstack([hot, np.broadcast_to(width + np.arange(values.shape[1]), values.shape)])
        kept = np.hstack([hot >= 0, values != 0])
        data = np.hstack([np.ones(hot.shape), values])
        joined = sparse.csr_matrix(
            (data[kept], columns[kept], np.concatenate([[0], np.cumsum(kept.sum(axis=1))])),
            shape=(len(X), coef.shape[0]),
        )
        probability: np.ndarray = expit((joined @ coef + intercept).ravel())
        return probability

    return predict


def fast_predictor(estimator: Any) -> Predictor:
    """P(class 1) from a feature matrix, by the fastest exact route known for this estimator."""
    steps = list(estimator.named_steps.values()) if isinstance(estimator, Pipeline) else [estimator]
    if not sklearn_internals_usable():
        steps = []  # every form below reads scikit-learn's internals: none is used
    if (
        len(steps) == 2
        and isinstance(steps[0], SimpleImputer)
        and isinstance(steps[1], RandomForestClassifier)
        and not getattr(steps[0], "add_indicator", False)
    ):
        impute, forest = _imputer(steps[0]), _forest(steps[1])
        return lambda X: forest(impute(X))
    if (
        len(steps) == 2
        and isinstance(steps[0], ColumnTransformer)
        and isinstance(steps[1], LogisticRegression)
    ):
        linear = _linear(steps[0], steps[1])
        if linear is not None:
            return linear
    if len(steps) == 1 and isinstance(steps[0], HistGradientBoostingClassifier):
        boosting = _boosting(steps[0])
        if boosting is not None:
            return boosting
    if len(steps) == 1 and isinstance(steps[0], LogOddsMean):
        members = [fast_predictor(member) for _, member in steps[0].estimators_]
        return lambda X: blended_probability([member(X) for member in members])

    def generic(X: np.ndarray) -> np.ndarray:
        probability: np.ndarray = estimator.predict_proba(X)[:, 1]
        return probability

    return generic


def for_serving(model: Any) -> Any:
    """The same fitted model, tuned for many small predictions (no thread pool per call)."""
    if hasattr(model, "get_params") and "model__n_jobs" in model.get_params():
        model.set_params(model__n_jobs=1)
    return model
