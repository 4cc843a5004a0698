"""The IEM ASOS CSV download → weather observations conditions.py reads (flightdelay/iem.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flightdelay import conditions, iem, layout
from flightdelay.errors import UnknownFileFormat
from flightdelay.partitions import read_observations
from flightdelay.storage import LocalStore
from tests.bts_files import IEM_ASOS, REPORTING, csv_bytes


def report(station: str, valid: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {name: "M" for name in IEM_ASOS}
    row.update(station=station, valid=valid, lon="-104.6562", lat="39.8466", metar=f"K{station} ...")
    row.update(values)
    return row


def iem_file(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "asos.csv"
    notes = b"#DEBUG: Format Typ    -> comma\n#DEBUG: Time Period  -> 2019-01-04\n"
    path.write_bytes(notes + csv_bytes(IEM_ASOS, rows, bts_style=False))
    return path


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "data")


def test_reports_become_observations_in_the_conditions_units(store: LocalStore, tmp_path: Path) -> None:
    path = iem_file(
        tmp_path,
        [
            report("DEN", "2019-01-04 12:53", tmpf="23.00", dwpf="14.00", sknt="12.00", gust="M",
                   vsby="10.00", alti="30.12"),
            report("KSEA", "2019-01-04 13:00", tmpf="41.00", dwpf="39.90", sknt="5.00", gust="17.00",
                   vsby="0.25", alti="29.92"),
        ],
    )  # fmt: skip
    summary = iem.import_files(store, [path], run_id="r")
    obs = read_observations(store).set_index("airport")
    assert summary["observations"] == 2
    assert summary["airports"] == ["DEN", "SEA"]
    assert obs.loc["DEN", "obs_utc"] == pd.Timestamp("2019-01-04 12:53", tz="UTC")
    assert obs.loc["DEN", "temp_c"] == -5.0
    assert obs.loc["DEN", "dewp_c"] == -10.0
    assert np.isnan(obs.loc["DEN", "gust_kt"])  # "M": missing
    assert obs.loc["DEN", "altim_hpa"] == pytest.approx(1020.0, abs=0.1)
    assert (obs.loc["SEA", "gust_kt"], obs.loc["SEA", "visib_mi"]) == (17.0, 0.25)


def test_training_sees_the_imported_weather_as_known_before_departure(
    store: LocalStore, tmp_path: Path
) -> None:
    path = iem_file(tmp_path, [report("DEN", "2019-01-04 12:53", tmpf="23.00", dwpf="14.00", vsby="2.00")])
    iem.import_files(store, [path])
    known = conditions.weather_at(
        read_observations(store),
        np.array(["DEN", "DEN"], dtype=object),
        np.array(["2019-01-04T12:50", "2019-01-04T14:00"], dtype="datetime64[m]"),
    )
    assert np.isnan(known["visib_mi"][0])  # before the report: not known yet
    assert known["visib_mi"][1] == 2.0


def test_unknown_stations_and_bad_times_are_quarantined(store: LocalStore, tmp_path: Path) -> None:
    path = iem_file(
        tmp_path,
        [
            report("DEN", "2019-01-04 12:53", tmpf="23.00"),
            report("Q9X", "2019-01-04 12:53", tmpf="23.00"),
            report("DEN", "yesterday", tmpf="23.00"),
        ],
    )
    summary = iem.import_files(store, [path], run_id="r")
    assert (summary["observations"], summary["rows_dropped"]) == (1, 2)
    key = summary["files"][0]["rejected_key"]
    assert key == layout.import_rejected("r", "asos.csv", weather=True)
    reasons = [json.loads(line)["reason"] for line in store.get(key).data.decode().splitlines()]
    assert reasons == [
        "station: Q9X is no known airport",
        "valid: yesterday is not a UTC time YYYY-MM-DD HH:MM",
    ]


def test_a_reimport_adds_nothing_twice(store: LocalStore, tmp_path: Path) -> None:
    path = iem_file(tmp_path, [report("DEN", "2019-01-04 12:53", tmpf="23.00")])
    iem.import_files(store, [path])
    iem.import_files(store, [path])
    assert len(read_observations(store)) == 1


def test_a_file_that_is_not_iem_names_what_it_lacks(store: LocalStore, tmp_path: Path) -> None:
    path = tmp_path / "flights.csv"
    path.write_bytes(csv_bytes(REPORTING, []))
    with pytest.raises(
        UnknownFileFormat, match=r"flights.csv is not an IEM ASOS CSV download: .*station, valid"
    ):
        iem.import_files(store, [path])
    assert store.list() == []
