"""Why a model said what it said: each flight's score split exactly into one term per model input.

The split is read from the model itself, never estimated:
- gradient boosting and random forests: each tree's path from its root to the flight's leaf, the
  change in the subtree's mean value at each split credited to the split's input (the path
  decomposition of Saabas); summed over trees, base + Σ terms is the model's raw score exactly
  (log-odds for boosting, probability for a forest);
- logistic regression: its own sum, the coefficient times the encoded value of each input's
  columns; base (the intercept) + Σ terms is its log-odds exactly;
- a log-odds blend of those (ensemble.py): the mean of its members' splits.

``factors`` turns the terms into the few that matter most for one flight, in words and in
percentage points of the probability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from flightdelay import conditions, rotation
from flightdelay.features import FEATURES

Scale = Literal["log_odds", "probability"]


@dataclass(frozen=True)
class Split:
    """base[i] + contributions[i].sum() is the model's score of flight i on ``scale``."""

    base: np.ndarray
    contributions: np.ndarray  # (flights, len(FEATURES))
    scale: Scale


class CannotExplain(ValueError):
    """A model whose form this module does not read (its answers still serve, without factors)."""


def split(model: Any, rows: np.ndarray) -> Split:
    """The exact split of each row's score. ``model``: the fitted pipeline after its feature step
    (or a bare estimator); ``rows``: that feature step's output (FlightFeatures, FEATURES order)."""
    steps = model.steps if hasattr(model, "steps") else [("model", model)]
    estimator = steps[-1][1]
    prepared = model[:-1].transform(rows) if len(steps) > 1 else rows  # e.g. the forest's imputer
    kind = type(estimator).__name__
    if kind == "HistGradientBoostingClassifier" and len(steps) == 1:
        return _boosting(estimator, rows)
    if kind == "RandomForestClassifier" and prepared.shape[1] == rows.shape[1]:
        return _forest(estimator, np.asarray(prepared))
    if kind == "LogisticRegression" and len(steps) == 2:
        return _linear(steps[0][1], estimator, rows)
    if kind == "LogOddsMean" and len(steps) == 1:
        return _blend([split(member, rows) for _, member in estimator.estimators_])
    raise CannotExplain(f"no exact explanation for a {kind} after {len(steps) - 1} step(s)")


def _blend(members: list[Split]) -> Split:
    """A mean of log-odds: the mean of the members' splits (each a sum in log-odds)."""
    if any(member.scale != "log_odds" for member in members):
        raise CannotExplain("a log-odds blend of a member whose score is not in log-odds")
    return Split(
        base=np.mean([m.base for m in members], axis=0),
        contributions=np.mean([m.contributions for m in members], axis=0),
        scale="log_odds",
    )


def _subtree_means(
    value: np.ndarray, count: np.ndarray, left: np.ndarray, right: np.ndarray, leaf: np.ndarray
) -> np.ndarray:
    """Each node's count-weighted mean of its leaves' values (children come after their parent)."""
    mean = np.where(leaf, value, 0.0).astype(float)
    weight = count.astype(float)
    for node in range(len(value) - 1, -1, -1):
        if not leaf[node]:
            a, b = left[node], right[node]
            total = weight[a] + weight[b]
            mean[node] = (mean[a] * weight[a] + mean[b] * weight[b]) / total if total else 0.0
    return mean


def _walk(
    rows: np.ndarray,
    out: np.ndarray,
    *,
    mean: np.ndarray,
    feature: np.ndarray,
    goes_left: Any,
    left: np.ndarray,
    right: np.ndarray,
    leaf: np.ndarray,
    scale: float = 1.0,
) -> None:
    """Add each row's path terms of one tree to ``out`` (vectorised over rows, level by level)."""
    node = np.zeros(len(rows), dtype=np.int64)
    active = np.flatnonzero(~leaf[node])
    while len(active):
        here = node[active]
        f = feature[here]
        child = np.where(goes_left(here, rows[active, f]), left[here], right[here])
        np.add.at(out, (active, f), (mean[child] - mean[here]) * scale)
        node[active] = child
        active = active[~leaf[child]]


def _boosting(estimator: Any, rows: np.ndarray) -> Split:
    out = np.zeros((len(rows), rows.shape[1]))
    base = float(np.ravel(estimator._baseline_prediction)[0])
    start = 0.0
    for (tree,) in estimator._predictors:  # binary: one tree an iteration
        nodes = tree.nodes
        leaf = nodes["is_leaf"].astype(bool)
        left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
        mean = _subtree_means(nodes["value"], nodes["count"], left, right, leaf)
        start += mean[0]
        bitsets = tree.raw_left_cat_bitsets

        def goes_left(
            here: np.ndarray, x: np.ndarray, nodes: Any = nodes, bitsets: Any = bitsets
        ) -> np.ndarray:
            missing = np.isnan(x)
            categorical = nodes["is_categorical"][here].astype(bool)
            left_numeric = x <= nodes["num_threshold"][here]
            code = np.where(missing | ~categorical, 0, x).astype(np.int64)
            in_set = np.zeros(len(here), dtype=bool)
            if len(bitsets) and categorical.any():  # raw category c goes left when bit c is set
                word = bitsets[nodes["bitset_idx"][here], np.clip(code // 32, 0, bitsets.shape[1] - 1)]
                in_set = (
                    ((word >> (code % 32).astype(np.uint32)) & 1).astype(bool) & (code >= 0) & (code < 256)
                )
            return np.where(
                missing,
                nodes["missing_go_to_left"][here].astype(bool),
                np.where(categorical, in_set, left_numeric),
            )

        _walk(
            rows,
            out,
            mean=mean,
            feature=nodes["feature_idx"].astype(np.int64),
            goes_left=goes_left,
            left=left,
            right=right,
            leaf=leaf,
        )
    return Split(np.full(len(rows), base + start), out, "log_odds")


def _forest(estimator: Any, rows: np.ndarray) -> Split:
    rows = np.asarray(rows, dtype=np.float32)
    out = np.zeros((len(rows), rows.shape[1]))
    n = len(estimator.estimators_)
    start = 0.0
    for tree in estimator.estimators_:
        t = tree.tree_
        late = t.value[:, 0, 1] / t.value[:, 0, :].sum(axis=1)  # share late in each node
        leaf = t.children_left < 0
        start += late[0] / n

        def goes_left(here: np.ndarray, x: np.ndarray, t: Any = t) -> np.ndarray:
            return np.asarray(x <= t.threshold[here])

        _walk(rows, out, mean=late, feature=np.maximum(t.feature, 0), goes_left=goes_left,
              left=t.children_left, right=t.children_right, leaf=leaf, scale=1.0 / n)  # fmt: skip
    return Split(np.full(len(rows), start), out, "probability")


def _owner(name: str) -> int:
    """The input an encoded column came from: the encoder names its columns "<transformer>__x<k>…"
    or "<transformer>__missingindicator_x<k>", k the input's position in the feature rows."""
    match = re.search(r"x(\d+)", name.split("__", 1)[-1])
    if match is None:
        raise CannotExplain(f"an encoded column named {name!r} names no input")
    return int(match.group(1))


def _linear(encode: Any, estimator: Any, rows: np.ndarray) -> Split:
    encoded = encode.transform(rows)
    encoded = encoded.toarray() if hasattr(encoded, "toarray") else np.asarray(encoded)
    weights = estimator.coef_[0]
    # Each encoded column back to the model input it came from.
    owners = [_owner(name) for name in encode.get_feature_names_out()]
    out = np.zeros((len(rows), rows.shape[1]))
    for j, owner in enumerate(owners):
        out[:, owner] += weights[j] * encoded[:, j]
    return Split(np.full(len(rows), float(estimator.intercept_[0])), out, "log_odds")


# --- in words ------------------------------------------------------------------------------------
WORDS = {
    "carrier": "the airline",
    "origin": "the departure airport",
    "dest": "the destination",
    "route": "the route",
    "dep_hour": "the departure time",
    "arr_hour": "the arrival time",
    "weekday": "the day of the week",
    "distance_km": "the distance",
    "block_minutes": "the scheduled flight time",
    "days_to_holiday": "the nearness of a holiday",
    "origin_hour_departures": "how busy the airport is at that hour",
    "hours_ahead": "how far ahead the conditions were known",
    "weather_age_hours": "the age of the weather report",
    "temp_c": "the temperature",
    "dewpoint_spread_c": "the humidity (dew point spread)",
    "wind_kt": "the wind",
    "gust_kt": "the gusts",
    "visib_mi": "the visibility",
    "altim_hpa": "the air pressure",
    "recent_departures": "how many flights just left",
    "recent_late_share": "how many recent departures were late",
    "recent_mean_delay": "the recent departures' delays",
    "prev_leg_left": "whether the aircraft's previous flight has left",
    "prev_leg_delay": "the delay of the aircraft's previous flight",
    "turnaround_minutes": "the aircraft's time to turn around",
    "legs_before": "how many flights the aircraft flew before",
}
ADVICE = {
    "time": "Later departures inherit the day's delays: an earlier flight is usually more punctual.",
    "weather": "The weather at the departure airport raises the risk: check the flight's status first.",
    "recent": "Departures at this airport are running late right now: allow extra time.",
    "schedule": "This airline, route or airport is often late: leave buffer time for connections.",
    "holiday": "Holiday traffic raises the risk: allow extra time.",
    "aircraft": "The aircraft's previous flight raises the risk: check its status before you leave.",
}


def _advice_for(reason: str) -> str:
    if reason in ("dep_hour", "arr_hour", "origin_hour_departures"):
        return ADVICE["time"]
    if reason == "weather":
        return ADVICE["weather"]
    if reason == "recent_departures":
        return ADVICE["recent"]
    if reason == "days_to_holiday":
        return ADVICE["holiday"]
    if reason == "aircraft":
        return ADVICE["aircraft"]
    return ADVICE["schedule"]


def _probability(score: Any, scale: Scale) -> Any:
    """Scores (a number or an array) on ``scale`` → probabilities."""
    return 1.0 / (1.0 + np.exp(-score)) if scale == "log_odds" else score


def points(result: Split) -> np.ndarray:
    """Each input's part of each flight's probability, in percentage points: the probability with
    the part, minus without it (flights × FEATURES)."""
    scores = result.base + result.contributions.sum(axis=1)
    with_all = _probability(scores, result.scale)
    return np.asarray(
        (with_all[:, None] - _probability(scores[:, None] - result.contributions, result.scale)) * 100
    )


# Inputs that measure one thing are one reason: their exact parts add up (a linear model may give
# distance and flight time large parts of opposite signs, which a person would only misread).
REASONS: dict[str, tuple[str, ...]] = {
    "flight_length": ("distance_km", "block_minutes"),
    "weather": conditions.WEATHER_FEATURES,
    "recent_departures": conditions.DEPARTURE_FEATURES,
    "aircraft": rotation.FEATURES,
}
WORDS.update(
    aircraft="the aircraft's previous flight",
    flight_length="the flight's length",
    weather="the weather at the departure airport",
    recent_departures="how the airport's departures are going",
)
_GROUPED = {name for names in REASONS.values() for name in names}
REASON_NAMES = [*REASONS, *(n for n in FEATURES if n not in _GROUPED)]


# A weather input as a person reads it, from its value in the flight's inputs.
MEASURED = {
    "weather_age_hours": "report {:.1f} h old",
    "temp_c": "temperature {:.0f} °C",
    "dewpoint_spread_c": "dew point spread {:.0f} °C",
    "wind_kt": "wind {:.0f} kt",
    "gust_kt": "gusts {:.0f} kt",
    "visib_mi": "visibility {:g} mi",
    "altim_hpa": "pressure {:.0f} hPa",
}


def _measured(
    terms: dict[str, float], values: dict[str, float], names: tuple[str, ...], most: int = 2
) -> str:
    """The ``most`` inputs of a group that push its way hardest, with their values ("gusts 32 kt,
    visibility 2 mi"); empty when none is known."""
    total = sum(terms[n] for n in names)
    pushing = [n for n in names if n in MEASURED and values[n] == values[n] and terms[n] * total > 0]
    pushing.sort(key=lambda n: -abs(terms[n]))
    return ", ".join(MEASURED[n].format(round(values[n], 1)) for n in pushing[:most])


def factors(
    result: Split, i: int, *, top: int = 3, values: np.ndarray | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The ``top`` reasons (an input, or inputs that measure one thing: REASONS) that moved flight
    ``i``'s probability most, each as {input, words, effect (percentage points: the probability
    with its part, minus without it)}, and one line of advice when the strongest raises the risk.
    With ``values`` (the flight's inputs, FEATURES order) the weather reason names the readings
    that count most for this flight: "weather" alone tells a traveller nothing to look at."""
    terms = dict(zip(FEATURES, result.contributions[i], strict=True))
    known = dict(zip(FEATURES, (float(v) for v in values), strict=True)) if values is not None else None
    parts = {reason: float(sum(terms[n] for n in REASONS.get(reason, (reason,)))) for reason in REASON_NAMES}
    score = float(result.base[i] + result.contributions[i].sum())
    with_all = _probability(score, result.scale)
    effects = {r: with_all - _probability(score - part, result.scale) for r, part in parts.items()}
    out: list[dict[str, Any]] = []
    for reason in sorted(effects, key=lambda r: -abs(effects[r]))[:top]:
        if effects[reason] == 0:
            continue
        what = WORDS[reason]
        if (
            reason == "weather"
            and known is not None
            and (readings := _measured(terms, known, REASONS[reason]))
        ):
            what = f"{what} ({readings})"
        out.append(
            {
                "input": reason,
                "words": f"{what} {'raises' if effects[reason] > 0 else 'lowers'} the chance",
                "effect": round(effects[reason] * 100, 1),
            }
        )
    advice = _advice_for(out[0]["input"]) if out and out[0]["effect"] > 0 else None
    return out, advice
