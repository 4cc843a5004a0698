"""Serving on a library's terms (issue 30): serving.py against ONNX Runtime and treelite, one run.

``flightdelay/serving.py`` serves the gradient boosting by scikit-learn's private tree routine
(``_predict_from_raw_data`` over ``_predictors``, with ``_bin_mapper``'s category bitsets,
``_baseline_prediction`` and ``_loss``). This script asks whether a library could serve the same
trained model on public terms, at least as fast and with exactly predict_proba's numbers. On the
blend training picks (``linear_and_boosting``, trained on Jan–Nov as bench.api trains it) and on its
gradient-boosting member alone, from the model's feature matrix (FlightFeatures' output, the same
for every route, of 10,000 December flights, a few with an unknown carrier or a negative category
code) to P(late), each route:

- serving.py: ``fast_predictor``, the project's form;
- predict_proba: scikit-learn's own, the reference every row is compared with;
- ONNX Runtime on skl2onnx's conversion (onnxmltools' ``convert_sklearn`` for the boosting too; for
  HistGradientBoosting it hands the model to skl2onnx's converter), float32 in (ONNX's tree
  ensembles compare in float32);
- ONNX Runtime on skl2onnx's conversion with its one known bug worked around here (a Python bool
  where ONNX wants an int), a diagnostic: does the converted graph then give the model's numbers?
- treelite: GTIL (its reference interpreter), and tl2cgen (the model compiled to C by gcc);
  trees only, so in the blend the logistic regression member is served by its own predict_proba,
  and, in a second row, by serving.py's form of it (what adopting a library for the boosting alone
  would serve). tl2cgen's compile time, paid at every model load, is in its rows.

Every route runs on one thread (threadpoolctl for scikit-learn's OpenMP, each library's own thread
setting), so the comparison is per core whatever the machine. "Native categorical splits" is
measured, not read from documentation: each converted route is also run on a control, the same
boosting refitted without ``categorical_features``; a route exact on the control and wrong on the
model mishandles the categorical splits. A route that fails to convert or run prints its one-line
reason as its result. A library that is missing is reported as such ("not installed: pip install
X"): the project's environment does not have them (they are not its dependencies). To run every
row, in a throwaway environment with the project's pins:

    uv venv /tmp/libvenv --python .venv/bin/python
    uv export --frozen --no-hashes --no-emit-project --all-extras --all-groups > /tmp/pins.txt
    uv pip install --python /tmp/libvenv/bin/python -r /tmp/pins.txt
    uv pip install --python /tmp/libvenv/bin/python -c /tmp/pins.txt onnxruntime skl2onnx onnxmltools treelite tl2cgen
    echo "$PWD" > /tmp/libvenv/lib/python3.11/site-packages/flightdelay-checkout.pth
    /tmp/libvenv/bin/python -m bench.serving_libraries

What it found (2026-12-03; scikit-learn 1.9.1, onnxruntime 1.32.0, skl2onnx 1.20.0, onnxmltools
1.16.0, treelite 4.8.1, tl2cgen 1.0.0): skl2onnx converts no HistGradientBoosting here (a Python bool
where onnx's protobuf wants an int) and onnxmltools hands it to the same converter; with that worked
around, its graph reads every categorical split as a numeric threshold (max difference 0.32 on the
boosting, 1.7e-7 on the same boosting without categorical features): skl2onnx mishandles the native
categorical splits, as the issue said. treelite handles them; GTIL is slow on a batch, and tl2cgen's
compiled C is faster than serving.py (one flight ~22 vs ~250 µs, a batch ~17 vs ~60 ms, one thread)
but not exactly equal (4.4e-16: its raw scores differ from scikit-learn's by up to 3.6e-15, the same
leaves summed in another order, the baseline last), and compiling takes seconds at every model load.
So: keep serving.py, guarded (serving.SUPPORTED_SKLEARN, tests/unit/test_serving_guard.py).
"""

from __future__ import annotations

import contextlib
import importlib
import statistics
import tempfile
import time
import timeit
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from flightdelay import datasets, schema
from flightdelay.ensemble import blended_probability
from flightdelay.features import CATEGORICAL, FEATURES
from flightdelay.serving import fast_predictor
from training.models import CANDIDATES

Predict = Callable[[np.ndarray], np.ndarray]
BATCH = 10_000
WINNER = "linear_and_boosting"
# What "exactly equal" forgives: nothing. What "handles categorical splits" forgives on a control
# without them: float32 inputs and thresholds (ONNX) move a probability by ~1e-7, never 1e-4.
CONTROL_TOLERANCE = 1e-4


class NotInstalled(Exception):
    def __init__(self, package: str) -> None:
        super().__init__(f"not installed: pip install {package}")


class MemberFailed(Exception):
    """One member of the blend could not be served by a route; the message says which and why."""


def need(module: str, package: str) -> Any:
    """A library by its import name (imported by name: the project's type checker does not know it)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise NotInstalled(package) from error


def one_line(error: BaseException) -> str:
    """The reason, on one line: the error and, where it wraps another, the original's message
    (skl2onnx's first line goes on to dump every node's attributes: cut)."""
    if isinstance(error, NotInstalled | MemberFailed):
        return str(error)
    first = (str(error).strip().splitlines() or [""])[0]
    text = f"{type(error).__name__}: {first[:80]}{'…' if len(first) > 80 else ''}"
    cause = error.__cause__
    if cause is not None:
        text += f" (from {type(cause).__name__}: {str(cause).strip()[:120]})"
    return text.replace("|", "/")


@dataclass
class Row:
    model: str
    route: str
    one_us: float | None = None
    batch_ms: float | None = None
    max_diff: float | None = None
    exact: bool | None = None
    categorical: str = ""
    note: str = ""


def skl2onnx_route(estimator: Any, X: np.ndarray) -> Predict:
    skl2onnx, ort = need("skl2onnx", "skl2onnx"), need("onnxruntime", "onnxruntime")
    onx = skl2onnx.to_onnx(estimator, X[:1].astype(np.float32), options={"zipmap": False})
    return ort_session(ort, onx.SerializeToString())


def onnxmltools_route(estimator: Any, X: np.ndarray) -> Predict:
    onnxmltools, ort = need("onnxmltools", "onnxmltools"), need("onnxruntime", "onnxruntime")
    # skl2onnx's type objects: onnxmltools hands a scikit-learn model to skl2onnx, which refuses
    # onnxmltools' own FloatTensorType ("shape must be a DataType").
    types = need("skl2onnx.common.data_types", "skl2onnx")
    onx = onnxmltools.convert_sklearn(
        estimator, initial_types=[("X", types.FloatTensorType([None, X.shape[1]]))]
    )
    return ort_session(ort, onx.SerializeToString())


def ort_session(ort: Any, model: bytes) -> Predict:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def predict(X: np.ndarray) -> np.ndarray:
        probabilities = session.run(None, {name: X.astype(np.float32)})[1]
        if isinstance(probabilities, list):  # a ZipMap's list of {class: probability}
            return np.array([p[1] for p in probabilities], dtype=np.float64)
        return np.asarray(probabilities[:, 1], dtype=np.float64)

    return predict


@contextlib.contextmanager
def skl2onnx_bool_fixed() -> Iterator[None]:
    """skl2onnx 1.20's tree converter gives a leaf's "missing goes left" as Python's False, which
    onnx's protobuf refuses in an ints attribute ("Expected an int, got a boolean"): every
    HistGradientBoosting fails to convert. Cast it, to see what the converted graph computes."""
    tree_ensemble = need("skl2onnx.common.tree_ensemble", "skl2onnx")
    original = tree_ensemble.add_node

    def add_node(*args: Any, **kwargs: Any) -> Any:
        kwargs["nodes_missing_value_tracks_true"] = int(kwargs.get("nodes_missing_value_tracks_true", 0))
        return original(*args, **kwargs)

    tree_ensemble.add_node = add_node
    try:
        yield
    finally:
        tree_ensemble.add_node = original


def skl2onnx_fixed_route(estimator: Any, X: np.ndarray) -> Predict:
    with skl2onnx_bool_fixed():
        return skl2onnx_route(estimator, X)


def treelite_model(boosting: HistGradientBoostingClassifier) -> Any:
    treelite = need("treelite", "treelite")
    with warnings.catch_warnings():
        # Its importer casts the category lists to int64, NaN included; the bitsets it builds from
        # them are compared with predict_proba below, so the warning says nothing the numbers do not.
        warnings.simplefilter("ignore", RuntimeWarning)
        return treelite.sklearn.import_model(boosting)


def gtil_route(boosting: HistGradientBoostingClassifier, X: np.ndarray) -> Predict:
    gtil = need("treelite.gtil", "treelite")
    model = treelite_model(boosting)
    return lambda X: np.asarray(gtil.predict(model, X, nthread=1), dtype=np.float64).reshape(len(X))


# Seconds each tl2cgen library took to compile (a cost paid at every model load, not per call).
COMPILED: dict[Path, float] = {}


def library_of(boosting: HistGradientBoostingClassifier, folder: Path) -> Path:
    return folder / f"boosting-{id(boosting)}.so"


def tl2cgen_route(boosting: HistGradientBoostingClassifier, X: np.ndarray, folder: Path) -> Predict:
    tl2cgen = need("tl2cgen", "tl2cgen")
    library = library_of(boosting, folder)
    if library not in COMPILED:  # the blend's boosting and the boosting alone are one model: once
        start = time.perf_counter()
        tl2cgen.export_lib(treelite_model(boosting), toolchain="gcc", libpath=str(library), params={})
        COMPILED[library] = time.perf_counter() - start
    predictor = tl2cgen.Predictor(str(library), nthread=1)
    return lambda X: np.asarray(predictor.predict(tl2cgen.DMatrix(X)), dtype=np.float64).reshape(len(X))


def timed(predict: Predict, X: np.ndarray) -> tuple[float, float]:
    """One flight (median µs, repeated for about half a second) and the whole batch (median ms of 5)."""
    one = X[:1]
    predict(one)  # warm: first-call allocations and lazy initialisation are not serving costs
    start = time.perf_counter()
    predict(one)
    repeat = max(5, min(2000, int(0.5 / max(time.perf_counter() - start, 1e-7))))
    one_us = statistics.median(timeit.repeat(lambda: predict(one), number=1, repeat=repeat)) * 1e6
    batch_ms = statistics.median(timeit.repeat(lambda: predict(X), number=1, repeat=5)) * 1e3
    return one_us, batch_ms


def compare(predict: Predict, reference: Predict, X: np.ndarray) -> tuple[float, bool]:
    """Max |difference| and exact equality, over a 500-row call (serving.py's one-thread path for
    small calls) and the 10,000-row batch (its path for large ones)."""
    got = np.concatenate([predict(X[:500]), predict(X)])
    want = np.concatenate([reference(X[:500]), reference(X)])
    return float(np.max(np.abs(got - want))), bool(np.array_equal(got, want))


def inputs(model: Any) -> np.ndarray:
    """10,000 December flights (not trained on) as the model's features, a few of them with an
    unknown carrier (NaN: the missing-value branch) or a negative origin code (scikit-learn's
    missing branch for categories), as the serving tests have them."""
    december = schema.labelled(datasets.load_flights(start=date(2013, 12, 1)))
    X: np.ndarray = model[0].transform(december.sample(BATCH, random_state=0))
    X[:5, FEATURES.index("carrier")] = np.nan
    X[5:8, FEATURES.index("origin")] = -1.0
    return X


def control_of(boosting: HistGradientBoostingClassifier, X_train: np.ndarray, y: np.ndarray) -> Any:
    """The same boosting refitted with its categories as plain numbers: no categorical split."""
    params = {**boosting.get_params(), "categorical_features": None}
    return HistGradientBoostingClassifier(**params).fit(X_train, y)


def main() -> None:
    flights = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END))
    model = CANDIDATES[WINNER](42).fit(flights, schema.target(flights))
    (_, boosting) = model[-1].estimators_[1]
    categorical = [FEATURES[i] for i in np.flatnonzero(boosting.is_categorical_)]
    assert categorical == list(CATEGORICAL), categorical  # the splits this script is about
    control = control_of(boosting, model[0].transform(flights), schema.target(flights))
    X = inputs(model)
    with threadpool_limits(limits=1):  # fitted on every core above; measured on one
        rows = measure(model, control, X)
    print_table(rows)
    print_conclusion(rows)


def measure(model: Any, control: Any, X: np.ndarray) -> list[Row]:
    (_, linear), (_, boosting) = model[-1].estimators_
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tree_routes: dict[str, Callable[[Any, np.ndarray], Predict]] = {
            "ONNX Runtime (skl2onnx)": skl2onnx_route,
            "ONNX Runtime (onnxmltools.convert_sklearn)": onnxmltools_route,
            "ONNX Runtime (skl2onnx, its bool bug worked around here: diagnostic)": skl2onnx_fixed_route,
            "treelite GTIL": gtil_route,
            "tl2cgen (compiled by gcc)": partial(tl2cgen_route, folder=folder),
        }
        for label, tail in (("blend (the winner)", model[1:]), ("its gradient boosting alone", boosting)):
            reference = proba(tail)
            builds: dict[str, Callable[[], Predict]] = {
                "serving.py (fast_predictor)": partial(fast_predictor, tail),
                "scikit-learn predict_proba": partial(proba, tail),
            }
            for route, build in tree_routes.items():
                if tail is boosting:
                    builds[route] = partial(build, boosting, X)
                elif "onnxmltools" in route:
                    continue  # for these estimators, the same converter as skl2onnx's
                elif route.startswith("ONNX"):
                    builds[route] = partial(blended_onnx, build, linear, boosting, X)
                else:  # a tree library: the regression member by its own predict_proba,
                    builds[route + " + the regression's predict_proba"] = partial(
                        with_linear, proba(linear), build, boosting, X
                    )
                    # and, what adopting the library for the boosting alone would serve, by serving.py's.
                    builds[route + " + serving.py's regression form"] = partial(
                        with_linear, fast_predictor(linear), build, boosting, X
                    )
            for route, make in builds.items():
                row = Row(label, route)
                rows.append(row)
                try:
                    predict = make()
                    row.max_diff, row.exact = compare(predict, reference, X)
                    row.one_us, row.batch_ms = timed(predict, X)
                except Exception as error:  # a library that cannot convert or run: that is the finding
                    row.note = one_line(error)
                    continue
                if library_of(boosting, folder) in COMPILED and route.startswith("tl2cgen"):
                    row.note = f"measured; compiled in {COMPILED[library_of(boosting, folder)]:.1f} s"
                if route.startswith(("serving.py", "scikit-learn")):
                    row.categorical = "yes (scikit-learn's own routine)"
                    continue
                build_control = tree_routes[next(r for r in tree_routes if route.startswith(r))]
                row.categorical = categorical_verdict(row, build_control, control, X)
    return rows


def proba(estimator: Any) -> Predict:
    return lambda X: np.asarray(estimator.predict_proba(X)[:, 1], dtype=np.float64)


def with_linear(
    linear: Predict, build: Callable[[Any, np.ndarray], Predict], boosting: Any, X: np.ndarray
) -> Predict:
    """The blend with its boosting served by a tree library and its regression by ``linear``."""
    boosting_route = build(boosting, X)
    return lambda X: blended_probability([linear(X), boosting_route(X)])


def blended_onnx(
    build: Callable[[Any, np.ndarray], Predict], linear: Any, boosting: Any, X: np.ndarray
) -> Predict:
    """Both members in ONNX Runtime, their log-odds blended in numpy (the blend is the project's class)."""
    members = []
    for name, convert, member in (
        ("the logistic regression member", skl2onnx_route, linear),
        ("the boosting member", build, boosting),
    ):
        try:
            members.append(convert(member, X))
        except NotInstalled:
            raise
        except Exception as error:
            raise MemberFailed(f"{name}: {one_line(error)}") from error
    return lambda X: blended_probability([member(X) for member in members])


def categorical_verdict(
    row: Row, build: Callable[[Any, np.ndarray], Predict], control: Any, X: np.ndarray
) -> str:
    """Whether this route handles the categorical splits: exact enough on the model, or else
    accurate on the control without them (then the categorical splits are what it gets wrong)."""
    assert row.max_diff is not None
    if row.max_diff < CONTROL_TOLERANCE:
        return f"yes (max diff {row.max_diff:.1e} with them)"
    try:
        off, _ = compare(build(control, X), lambda X: control.predict_proba(X)[:, 1], X)
    except Exception as error:
        return f"cannot tell: the control failed too ({one_line(error)})"
    if off < CONTROL_TOLERANCE:
        return f"NO: max diff {row.max_diff:.2f} with them, {off:.1e} on the same boosting without them"
    return f"cannot tell: wrong without them too (max diff {off:.2g})"


def print_table(rows: list[Row]) -> None:
    versions = []
    for package in ("scikit-learn", "onnxruntime", "skl2onnx", "onnxmltools", "treelite", "tl2cgen"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} not installed")
    print(f"serving on a library's terms, one thread each ({', '.join(versions)})")
    print()
    print(
        "| model | route | one flight µs | 10,000 flights ms | max abs diff vs predict_proba "
        "| exactly equal | native categorical splits | result |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        if row.one_us is None or row.batch_ms is None or row.max_diff is None:
            print(f"| {row.model} | {row.route} | — | — | — | — | — | {row.note} |")
            continue
        print(
            f"| {row.model} | {row.route} | {row.one_us:,.0f} | {row.batch_ms:,.1f} | {row.max_diff:.1e} "
            f"| {'yes' if row.exact else 'no'} | {row.categorical} | {row.note or 'measured'} |"
        )


def print_conclusion(rows: list[Row]) -> None:
    """Adopt a library only where it is at least as fast as serving.py (one flight and the batch)
    and exactly equal to predict_proba; otherwise keep serving.py."""
    adopt: list[str] = []
    reasons: list[str] = []
    for model in dict.fromkeys(row.model for row in rows):
        ours = next(r for r in rows if r.model == model and r.route.startswith("serving.py"))
        for row in rows:
            if (
                row.model != model
                or row.route.startswith(("serving.py", "scikit-learn"))
                or "diagnostic" in row.route
            ):
                continue
            if row.one_us is None or row.batch_ms is None or ours.one_us is None or ours.batch_ms is None:
                reasons.append(f"{row.route} ({model}): {row.note or 'not measured'}")
                continue
            one_ok, batch_ok = row.one_us <= ours.one_us, row.batch_ms <= ours.batch_ms
            if one_ok and batch_ok and row.exact:
                adopt.append(f"{row.route} for the {model}")
                continue
            why = [] if row.exact else [f"not exactly equal (max diff {row.max_diff:.1e})"]
            speed = (
                f"{row.one_us:,.0f} vs {ours.one_us:,.0f} µs a flight ({'as fast or faster' if one_ok else 'slower'}), "
                f"{row.batch_ms:,.1f} vs {ours.batch_ms:,.1f} ms a batch ({'as fast or faster' if batch_ok else 'slower'})"
            )
            why.append(speed)
            reasons.append(f"{row.route} ({model}): {', '.join(why)}")
    print()
    for reason in reasons:
        print(f"- {reason}")
    libraries = [row for row in rows if not row.route.startswith(("serving.py", "scikit-learn"))]
    if all(row.one_us is None for row in libraries):
        print(
            "conclusion: keep serving.py; no library ran here (see above), so this run measured none: "
            "run it in the throwaway environment this script's docstring describes"
        )
    elif adopt:
        print(f"conclusion: adopt {'; '.join(adopt)} (at least as fast and exactly equal)")
    else:
        print("conclusion: keep serving.py (no library is both at least as fast and exactly equal)")


if __name__ == "__main__":
    main()
