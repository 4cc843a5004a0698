"""Serving: a flight as asked about gives the features training computes, and the fast inference
path gives exactly the probabilities of predict_proba."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from flightdelay import conditions, datasets, schema
from flightdelay.ensemble import LogOddsMean
from flightdelay.features import FEATURES, FlightFeatures
from flightdelay.schema import local_to_utc
from flightdelay.serving import (
    BOOSTING_ONE_THREAD_ROWS,
    FOREST_SPLIT_ROWS,
    ONE_BY_ONE_ROWS,
    WRONG_ARRIVAL,
    Flights,
    asked,
    fast_predictor,
    feature_matrix,
    for_serving,
    to_utc,
)
from training.models import CANDIDATES


@pytest.fixture(scope="module")
def flights() -> Any:
    return schema.labelled(datasets.load_flights(end=datasets.TRAINING_END).iloc[::40])


@pytest.fixture(scope="module")
def seen(flights: Any) -> Any:
    """The flights as training sees them: each from a horizon of the mix, conditions unknown for some."""
    return conditions.for_flights(
        flights, datasets.load_weather(), flights, conditions.draw_horizons(len(flights), 0)
    )


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_fast_predictions_equal_predict_proba(seen: Any, name: str) -> None:
    """Every candidate has a serving form, and it gives predict_proba's numbers bit for bit, for one
    flight, a micro-batch and a batch past the boosting's one-thread limit and the forest's split
    across cores (the forest compared as served, on one thread: on several, scikit-learn adds its
    trees in any order)."""
    model = for_serving(CANDIDATES[name](0).fit(seen, schema.target(seen)))
    X = model[0].transform(seen.tail(max(BOOSTING_ONE_THREAD_ROWS, FOREST_SPLIT_ROWS) + 100))
    X[:5, 0] = np.nan  # unknown carriers take the imputation (or missing-value) path too
    X[5:8, 1] = -1.0  # a negative category code: scikit-learn's "missing" branch
    hours_ahead = X[:, FEATURES.index("hours_ahead")]
    assert np.isnan(hours_ahead).any()  # conditions unknown for some flights,
    assert not np.isnan(hours_ahead).all()  # known for others
    predict = fast_predictor(model[1:])
    blended = model[-1].estimators_ if isinstance(model[-1], LogOddsMean) else []  # each has its form
    for form in (predict, *(fast_predictor(member) for _, member in blended)):
        assert "generic" not in form.__qualname__  # not the predict_proba fallback
    for rows in (1, 32, len(X)):
        np.testing.assert_array_equal(predict(X[:rows]), model[1:].predict_proba(X[:rows])[:, 1])


def _asked(rows: Any) -> Flights:
    flights, problems = asked(
        list(rows["carrier"]),
        list(rows["origin"]),
        list(rows["dest"]),
        [t.to_pydatetime() for t in rows["sched_dep_local"]],
        [t.to_pydatetime() for t in rows["sched_arr_local"]],
    )
    assert problems == []
    return flights


def test_flights_as_asked_get_the_features_of_their_stored_rows(flights: Any) -> None:
    """The API's path (wall-clock times → UTC once → arrays) and training's path (the normalized
    table) give the same numbers, on real flights, across a DST change (March 10, November 3): for
    a batch converted by zone, and for flights few enough to be converted one by one."""
    features = FlightFeatures().fit(flights)
    rows = flights[flights["flight_date"].dt.month.isin([3, 11])].head(2000)
    assert len(rows) >= ONE_BY_ONE_ROWS
    np.testing.assert_array_equal(feature_matrix(features, _asked(rows)), features.transform(rows))
    few = [_asked(rows.iloc[i : i + 3]) for i in range(0, len(rows), 3)]
    np.testing.assert_array_equal(feature_matrix(features, Flights.concat(few)), features.transform(rows))


def test_a_batch_and_one_by_one_convert_to_utc_alike_minute_by_minute_across_dst() -> None:
    """Every minute of the 2013 DST changes, in zones east and west, one in Europe and one without
    DST: the batch conversion by zone (to_utc) gives the instants of the one-by-one rules
    (schema.local_to_utc), which a few flights are checked with."""
    zones = ["America/New_York", "America/Los_Angeles", "Europe/London", "America/Phoenix"]

    def hours(start: str, count: int) -> np.ndarray:
        return np.datetime64(start, "m") + np.arange(count * 60).astype("timedelta64[m]")

    changes = [("2013-03-10", 5), ("2013-11-03", 5), ("2013-03-31", 3), ("2013-10-27", 3)]
    local = np.concatenate([hours(day, count) for day, count in changes])
    for zone in zones:
        expected = [local_to_utc(t.astype(datetime), zone) for t in local]
        assert to_utc(local, [zone] * len(local)).astype(datetime).tolist() == expected
    assert np.isnat(to_utc(local, [None] * len(local))).all()


def test_a_flight_with_an_unknown_airport_or_no_arrival_still_gets_features(flights: Any) -> None:
    features = FlightFeatures().fit(flights)
    departure = flights.iloc[0].sched_dep_local.to_pydatetime()
    asked_flights, problems = asked(["B6", "ZZ"], ["JFK", "QQQ"], ["XXX", "BOS"], [departure] * 2, [None] * 2)
    assert problems == []
    assert not np.isnat(asked_flights.departure_utc[0])
    assert np.isnat(asked_flights.departure_utc[1])  # no zone for QQQ: unknown, not an error
    matrix = feature_matrix(features, asked_flights)
    assert matrix.shape == (2, features.transform(flights.head(1)).shape[1])
    assert np.isnan(matrix[1, 0])  # an unknown carrier is a missing value


GOOD = datetime(2013, 12, 2, 8)
NAIVE = "give the airport's local time without a UTC offset"
WRONG_YEAR = "year must be between 1990 and 2060"
# Flights as asked, each breaking the rules its own way (or none), and what must be said of each.
TRICKY: list[tuple[tuple[Any, ...], list[tuple[str | None, str]]]] = [
    (("B6", "JFK", "BOS", GOOD, GOOD + timedelta(hours=1)), []),
    (("B6", "JFK", "JFK", GOOD, None), [(None, "dest must differ from origin")]),
    (
        ("B6", "JFK", "BOS", GOOD.replace(tzinfo=UTC), datetime(2013, 12, 2, 9, tzinfo=UTC)),
        [("arrival", NAIVE), ("departure", NAIVE)],
    ),
    (
        ("B6", "JFK", "BOS", datetime(1989, 12, 31, 23, 59), None),
        [("departure", "year must be between 1990 and 2060")],
    ),
    (
        ("B6", "JFK", "JFK", GOOD, datetime(9999, 1, 1)),
        [("arrival", WRONG_YEAR), (None, "dest must differ from origin")],
    ),
    (("B6", "JFK", "BOS", GOOD, GOOD - timedelta(minutes=5)), [(None, WRONG_ARRIVAL)]),
    (("B6", "JFK", "BOS", GOOD, GOOD), [(None, WRONG_ARRIVAL)]),
    (("B6", "JFK", "BOS", GOOD, GOOD + timedelta(hours=20)), []),
    (("B6", "JFK", "BOS", GOOD, GOOD + timedelta(hours=20, minutes=1)), [(None, WRONG_ARRIVAL)]),
    (("B6", "QQQ", "ZZZ", GOOD, GOOD + timedelta(hours=6)), []),  # unknown zones: wall clocks + 14 h
    (("B6", "QQQ", "ZZZ", GOOD, GOOD + timedelta(hours=21)), [(None, WRONG_ARRIVAL)]),
    (("B6", "JFK", "LAX", datetime(2013, 3, 10, 2, 30), None), []),  # in the DST gap: shifted, not refused
    (("B6", "JFK", "LAX", datetime(2013, 12, 2, 8, 0, 59), None), []),
]


@pytest.mark.parametrize("pad", [0, ONE_BY_ONE_ROWS], ids=["one by one", "together"])
def test_every_problem_of_every_flight_is_named_with_its_row(pad: int) -> None:
    """The rules across fields, for a few flights (one by one) and for a batch (as arrays): each
    broken rule gives its row, the time it is about (None: the flight as a whole) and why; good rows
    give none; both ways give the same flights and the same problems."""
    rows = [row for row, _ in TRICKY] + [TRICKY[0][0]] * pad
    flights, problems = asked(*(list(column) for column in zip(*rows, strict=True)))
    assert len(flights) == len(rows)
    assert problems == [(i, *problem) for i, (_, said) in enumerate(TRICKY) for problem in said]
    # Seconds are not part of a schedule: whole minutes, as the stored rows have them.
    assert flights.departure_local[len(TRICKY) - 1] == np.datetime64("2013-12-02T08:00")
    alone, _ = asked(*(list(column) for column in zip(*rows[: len(TRICKY)], strict=True)))
    good = [i for i, (_, said) in enumerate(TRICKY) if not said]
    for name in (
        "carrier",
        "origin",
        "dest",
        "departure_local",
        "arrival_local",
        "departure_utc",
        "arrival_utc",
    ):
        np.testing.assert_array_equal(getattr(flights, name)[good], getattr(alone, name)[good])


def _changes(zone: str, start: int, end: int) -> list[tuple[datetime, timedelta]]:
    """Each change of a zone's UTC offset over [start, end] (by hourly UTC steps): the wall-clock time
    just after it, and how far the clocks moved; read from the zone itself, not written by hand."""
    tz = ZoneInfo(zone)
    hours = range(
        int(datetime(start, 1, 1, tzinfo=UTC).timestamp()),
        int(datetime(end + 1, 1, 1, tzinfo=UTC).timestamp()),
        3600,
    )
    walls = [datetime.fromtimestamp(t, tz) for t in hours]
    return [
        (after.replace(tzinfo=None, fold=0), after.utcoffset() - before.utcoffset())  # type: ignore[operator]  # utcoffset is never None in a zone
        for before, after in pairwise(walls)
        if before.utcoffset() != after.utcoffset()
    ]


@pytest.mark.parametrize(
    ("airport", "zone"),
    [("CHT", "Pacific/Chatham"), ("LDH", "Australia/Lord_Howe"), ("APW", "Pacific/Apia")],
)
def test_one_flight_and_a_batch_convert_alike_across_every_change_of_odd_zones(
    airport: str, zone: str
) -> None:
    """Chatham (45-minute offsets), Lord Howe (a 30-minute DST) and Apia (a DST that began at
    midnight, and a whole day skipped in 2011): every minute from 90 minutes before to 90 after every
    offset change of 2005-2030 (and through a gap) gets the same UTC instant asked alone (one by one)
    as in a batch, and that instant is the rule's: an existing time converts back to itself (the
    earlier of two), a time in a gap to the end of the gap."""
    tz = ZoneInfo(zone)
    changes = _changes(zone, 2005, 2030)
    assert len(changes) >= 20
    local = sorted(
        {
            change + timedelta(minutes=m)
            for change, step in changes
            for m in range(-90 - max(0, int(step.total_seconds()) // 60), 91)
        }
    )
    n = len(local)
    carriers, origins, dests, arrivals = ["XX"] * n, [airport] * n, ["AKL"] * n, [None] * n
    together, problems = asked(carriers, origins, dests, local, arrivals)
    assert problems == []
    one_by_one = Flights.concat(
        [
            asked(
                carriers[i : i + 3],
                origins[i : i + 3],
                dests[i : i + 3],
                local[i : i + 3],
                arrivals[i : i + 3],
            )[0]
            for i in range(0, n, 3)
        ]
    )
    np.testing.assert_array_equal(one_by_one.departure_utc, together.departure_utc)
    for wall, utc in zip(local, together.departure_utc.astype(datetime).tolist(), strict=True):
        earlier = wall.replace(tzinfo=tz, fold=0).astimezone(UTC).replace(tzinfo=None)
        if earlier.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) == wall:  # it exists
            assert utc == earlier, wall
        else:  # in a gap: the first wall time after it, and nothing between
            just_before = (utc - timedelta(minutes=1)).replace(tzinfo=UTC).astimezone(tz)
            assert utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) > wall, wall
            assert just_before.replace(tzinfo=None) < wall, wall
