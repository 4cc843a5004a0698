"""The Athena tables and saved queries (infra/modules/analytics) on DuckDB over a local lake: the
same SQL files Terraform saves, on the Parquet the system writes, with the tables' names, columns
and date= partition as the Glue catalog declares them; each answer checked against pandas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flightdelay import answers, conditions, datasets, layout
from flightdelay.partitions import write_observations
from flightdelay.storage import LocalStore
from tests.factories import write_days

duckdb = pytest.importorskip("duckdb", reason="duckdb is a dev dependency (make setup)")

MODULE = Path(__file__).parents[2] / "infra" / "modules" / "analytics"
QUERIES = sorted((MODULE / "queries").glob("*.sql"))
# Each Glue table: the folder it projects and the object name of its partitions.
TABLES = {
    "training": (layout.TRAINING, layout.PARTITION_FILE),
    "new_clean": (layout.NEW_CLEAN, layout.PARTITION_FILE),
    "weather": (layout.WEATHER, layout.OBSERVATIONS_FILE),
    "predictions": (layout.PREDICTIONS, "part-*.parquet"),
}


def glue_columns(table: str) -> list[str]:
    """The column names main.tf declares for a table (its list literal, in order)."""
    text = (MODULE / "main.tf").read_text()
    lists = {
        "training": "flight_columns",
        "new_clean": "flight_columns",
        "weather": "weather",
        "predictions": "predictions",
    }
    if lists[table] == "flight_columns":
        block = text.split("flight_columns = [", 1)[1].split("]\n", 1)[0]
        return re.findall(r'\["(\w+)", "\w+"\]', block)
    block = text.split(f"    {table} = {{", 1)[1].split("\n    }\n", 1)[0]
    names = re.findall(r'\["(\w+)", "\w+"\]', block)
    if "local.condition_columns" in block:
        names += list(conditions.FEATURES)
    return names


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    root = tmp_path_factory.mktemp("lake")
    store = LocalStore(root)
    history = datasets.load_flights(datasets.TRAINING_END.replace(day=1), datasets.TRAINING_END).iloc[::7]
    fetched = datasets.load_flights(datetime(2013, 12, 1).date(), datetime(2013, 12, 3).date())
    write_days(store, layout.TRAINING, history)
    write_days(store, layout.NEW_CLEAN, fetched)
    weather = datasets.load_weather()
    weather = weather[weather["obs_utc"].dt.month == 12].head(200)
    for day, rows in weather.groupby(weather["obs_utc"].dt.date):
        write_observations(store, day, rows)
    asked = fetched.iloc[::3].reset_index(drop=True)
    rng = np.random.default_rng(4)
    hours = rng.choice([np.nan, 1.0, 2.0, 4.0], size=len(asked))
    known = conditions.Known.unknown(len(asked))
    known.values["hours_ahead"][:] = hours
    probability = rng.random(len(asked))
    table = answers.table(
        {
            name: asked[name].to_numpy()
            for name in ("carrier", "origin", "dest", "sched_dep_local", "sched_arr_local")
        },
        probability,
        known,
        model_version=np.full(len(asked), "v1", dtype=object),
        threshold=np.full(len(asked), 0.4),
        asked=np.full(len(asked), np.datetime64("2013-11-30T12:00")),
        conditions_as_of=np.full(len(asked), np.datetime64("NaT")),
    )
    answers.write(store, table)
    return root, history, fetched, table


@pytest.fixture
def db(lake: tuple[Path, pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> Iterator[object]:
    root = lake[0]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, (prefix, file) in TABLES.items():
        # As Glue declares them: the date= folder is a string column named date (the test's own paths).
        view = f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{root}/{prefix}/date=*/{file}', "  # noqa: S608
        con.execute(view + "hive_partitioning = true, hive_types = {'date': VARCHAR}, union_by_name = true)")
    yield con
    con.close()


def run(db: object, name: str) -> pd.DataFrame:
    frame: pd.DataFrame = db.execute((MODULE / "queries" / f"{name}.sql").read_text()).df()  # type: ignore[attr-defined]  # duckdb's stubs lack it
    return frame


def late(values: pd.Series) -> pd.Series:
    return (values >= 15).astype(float)


def test_every_table_declares_the_columns_the_system_writes(db: object) -> None:
    for table in TABLES:
        written = [row[0] for row in db.execute(f"DESCRIBE {table}").fetchall() if row[0] != "date"]  # type: ignore[attr-defined]  # duckdb's stubs lack it
        assert glue_columns(table) == written, table


def test_every_saved_query_runs_on_the_local_lake(db: object) -> None:
    assert {q.stem for q in QUERIES} == {
        "answers_with_outcomes",
        "input_drift",
        "late_share_by_airport_and_hour",
        "late_share_by_origin_and_day",
        "live_quality_by_day_and_horizon",
    }
    for query in QUERIES:
        assert len(run(db, query.stem)) > 0, query.name


def test_late_share_by_airport_and_hour_is_the_share_of_all_flights(
    db: object, lake: tuple[Path, pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    _, history, fetched, _ = lake
    flights = pd.concat([history, fetched]).dropna(subset=["arr_delay"])
    expected = (
        flights.assign(hour=flights["sched_dep_local"].dt.hour, late=late(flights["arr_delay"]))
        .groupby(["origin", "hour"])
        .agg(flights=("late", "size"), late_share=("late", "mean"))
        .reset_index()
    )
    got = run(db, "late_share_by_airport_and_hour")
    assert list(got["flights"]) == list(expected["flights"])
    np.testing.assert_allclose(got["late_share"], expected["late_share"], atol=5e-5)


def test_answers_join_their_outcomes_and_live_quality_scores_them(
    db: object, lake: tuple[Path, pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    _, _, fetched, table = lake
    key = list(answers.JOIN_KEY)
    outcomes = fetched.dropna(subset=["arr_delay"])
    outcomes = outcomes[~outcomes.duplicated(key, keep=False)]
    joined = table.merge(outcomes[[*key, "arr_delay"]], on=key)
    got = run(db, "answers_with_outcomes")
    assert len(got) == len(joined) > 100
    by_key = got.sort_values(key, ignore_index=True)
    expected = joined.sort_values(key, ignore_index=True)
    assert list(by_key["late"]) == list(late(expected["arr_delay"]).astype(int))
    np.testing.assert_allclose(by_key["probability"], expected["probability"])
    quality = run(db, "live_quality_by_day_and_horizon")
    assert quality["answers"].sum() == len(joined)
    y = late(joined["arr_delay"]).to_numpy()
    p = joined["probability"].to_numpy()
    day = joined["sched_dep_local"].dt.strftime("%Y-%m-%d").to_numpy()
    one_h = (day == "2013-12-02") & (joined["hours_ahead"].to_numpy() == 1.0)
    row = quality[(quality["date"] == "2013-12-02") & (quality["horizon"] == "1h")].iloc[0]
    assert row["answers"] == one_h.sum()
    assert row["brier"] == pytest.approx(np.mean((p[one_h] - y[one_h]) ** 2), abs=5e-5)
    flags = joined["delayed"].to_numpy()[one_h] == (y[one_h] == 1)
    assert row["flag_accuracy"] == pytest.approx(flags.mean(), abs=5e-5)


def test_input_drift_compares_each_airports_share_of_answers_and_of_history(
    db: object, lake: tuple[Path, pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    _, history, _, table = lake
    got = run(db, "input_drift").set_index("origin")
    asked = table["origin"].value_counts(normalize=True)
    learned = history["origin"].value_counts(normalize=True)
    for origin in learned.index:
        assert got.loc[origin, "training_share"] == pytest.approx(learned[origin], abs=5e-5)
        assert got.loc[origin, "asked_share"] == pytest.approx(asked.get(origin, 0.0), abs=5e-5)


def test_the_date_partition_is_the_folders_day(db: object) -> None:
    rows = db.execute("SELECT DISTINCT date FROM new_clean ORDER BY date").fetchall()  # type: ignore[attr-defined]  # duckdb's stubs lack it
    assert [r[0] for r in rows] == ["2013-12-01", "2013-12-02", "2013-12-03"]
