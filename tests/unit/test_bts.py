"""BTS On-Time Performance files as downloaded → training partitions (flightdelay/bts.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from flightdelay import bts, layout, rotation, schema
from flightdelay.errors import UnknownFileFormat
from flightdelay.partitions import partition_dates, read_partitions
from flightdelay.storage import LocalStore
from tests.bts_files import EXPO, IEM_ASOS, MARKETING, REPORTING, csv_bytes, flight, zipped_like_bts

SAMPLE = Path(__file__).parents[1] / "data" / "bts_reporting_carrier_2019_1_sample.csv"
ZIP_NAME = "On_Time_Reporting_Carrier_On_Time_Performance_(1987_present)_2019_1"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "data")


def imported(store: LocalStore, *paths: Path, **options: object) -> tuple[pd.DataFrame, dict[str, object]]:
    summary = bts.import_files(store, list(paths), run_id="run1", **options)  # type: ignore[arg-type]  # options are the tests' own keywords
    return read_partitions(store, layout.TRAINING), summary


def one(flights: pd.DataFrame, carrier: str, number: str) -> pd.Series:
    rows = flights[(flights["carrier"] == carrier) & (flights["flight_number"] == number)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_local_hhmm_becomes_utc_by_each_airports_zone_and_the_tail_number_is_kept(store: LocalStore) -> None:
    flights, _ = imported(store, SAMPLE)
    row = one(flights, "WN", "1203")  # DEN 06:00 MST -> PHX 07:50 MST, 10 minutes early
    assert (row["origin_tz"], row["dest_tz"]) == ("America/Denver", "America/Phoenix")
    assert row["sched_dep_utc"] == pd.Timestamp("2019-01-04 13:00", tz="UTC")
    assert row["sched_arr_utc"] == pd.Timestamp("2019-01-04 14:50", tz="UTC")
    assert row["actual_arr_utc"] == pd.Timestamp("2019-01-04 14:40", tz="UTC")
    assert row["actual_dep_utc"] == pd.Timestamp("2019-01-04 12:57", tz="UTC")
    assert (row["arr_delay"], row["status"], row["tail_number"]) == (-10.0, "landed", "N8688C")


def test_2400_is_the_midnight_that_ends_the_day(store: LocalStore) -> None:
    flights, _ = imported(store, SAMPLE)
    row = one(flights, "F9", "700")
    assert row["flight_date"] == pd.Timestamp("2019-01-04")
    assert row["sched_dep_local"] == pd.Timestamp("2019-01-05 00:00")
    assert row["sched_dep_utc"] == pd.Timestamp("2019-01-05 07:00", tz="UTC")
    assert row["sched_arr_utc"] == pd.Timestamp("2019-01-05 09:04", tz="UTC")  # LAS 01:04 PST


def test_an_arrival_earlier_than_the_departure_lands_the_next_day(store: LocalStore) -> None:
    flights, _ = imported(store, SAMPLE)
    row = one(flights, "UA", "2210")  # DEN 23:59 MST -> ORD 03:30 CST
    assert row["sched_arr_local"] == pd.Timestamp("2019-01-05 03:30")
    assert row["sched_arr_utc"] == pd.Timestamp("2019-01-05 09:30", tz="UTC")
    assert row["arr_delay"] == 34.0


def test_cancelled_and_diverted_flights_are_kept_without_a_label(store: LocalStore) -> None:
    flights, summary = imported(store, SAMPLE)
    cancelled, diverted = one(flights, "WN", "88"), one(flights, "OO", "5123")
    assert (cancelled["status"], diverted["status"]) == ("cancelled", "diverted")
    assert pd.isna(cancelled["arr_delay"])
    assert pd.isna(diverted["arr_delay"])
    assert cancelled["tail_number"] is None
    assert summary["rows_without_label"] == 2


def test_bad_rows_are_quarantined_with_the_reason_and_counted(store: LocalStore) -> None:
    flights, summary = imported(store, SAMPLE)
    assert summary["rows_read"] == 8
    assert summary["rows_written"] == len(flights) == 6
    assert summary["dropped_by_reason"] == {"Dest": 1, "CRSDepTime": 1}
    report: dict[str, object] = summary["files"][0]  # type: ignore[index]  # the summary is a JSON-shaped dict
    assert report["layout"] == "Reporting Carrier"
    key = str(report["rejected_key"])
    assert key == layout.import_rejected("run1", SAMPLE.name)
    rejected = [json.loads(line) for line in store.get(key).data.decode().splitlines()]
    by_reason = {r["reason"]: r for r in rejected}
    assert set(by_reason) == {"Dest: QXQ is not a known airport", "CRSDepTime: 0975 is not a local time hhmm"}
    assert by_reason["Dest: QXQ is not a known airport"]["line"] == 7  # the header is line 1
    assert by_reason["Dest: QXQ is not a known airport"]["Reporting_Airline"] == "AA"


def test_the_zip_as_downloaded_reads_like_its_csv(store: LocalStore, tmp_path: Path) -> None:
    archive = zipped_like_bts(tmp_path / f"{ZIP_NAME}.zip", f"{ZIP_NAME}.csv", SAMPLE.read_bytes())
    from_zip, summary = imported(store, archive)
    other = LocalStore(tmp_path / "other")
    from_csv, _ = imported(other, SAMPLE)
    pd.testing.assert_frame_equal(from_zip, from_csv)
    assert summary["partitions"] == 2


def test_every_layout_gives_the_same_flights(tmp_path: Path) -> None:
    rows = [
        flight(
            "2008-07-01", "WN", 12, "MDW", "DEN", "0605", "0730", dep_delay=7.0, arr_delay=20.0, tail="N401WN"
        ),
        flight(
            "2008-07-02", "WN", 13, "DEN", "MDW", "1010", "1340", dep_delay=0.0, arr_delay=-4.0, tail="N402WN"
        ),
    ]
    expo_rows = [{**r, "CRSDepTime": str(int(str(r["CRSDepTime"])))} for r in rows]  # bare 605, no zero
    files = {
        "reporting.csv": csv_bytes(REPORTING, rows),
        "marketing.csv": csv_bytes(MARKETING, rows),
        "1987-2008.csv": csv_bytes(EXPO, expo_rows, bts_style=False),
    }
    tables, layouts = [], []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        target = LocalStore(tmp_path / f"store-{name}")
        flights, summary = imported(target, tmp_path / name)
        tables.append(flights)
        layouts.append(summary["files"][0]["layout"])  # type: ignore[index]  # the summary is a JSON-shaped dict
    assert layouts == ["Reporting Carrier", "Marketing Carrier", "1987-2008"]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    assert list(tables[0]["tail_number"]) == ["N401WN", "N402WN"]
    assert tables[0]["sched_dep_utc"].iloc[0] == pd.Timestamp("2008-07-01 11:05", tz="UTC")  # CDT


def test_an_imported_aircraft_day_gives_rotation_its_inbound_leg_landed_at_its_actual_arrival(
    tmp_path: Path, store: LocalStore
) -> None:
    rows = [  # one aircraft: MDW 06:05 CDT -> DEN (landed 20 min late), then DEN 10:10 MDT -> MDW
        flight(
            "2008-07-01", "WN", 12, "MDW", "DEN", "0605", "0730", dep_delay=7.0, arr_delay=20.0, tail="N401WN"
        ),
        flight(
            "2008-07-01", "WN", 13, "DEN", "MDW", "1010", "1340", dep_delay=0.0, arr_delay=-4.0, tail="N401WN"
        ),
    ]
    (tmp_path / "reporting.csv").write_bytes(csv_bytes(REPORTING, rows))
    flights, _ = imported(store, tmp_path / "reporting.csv")
    second = flights[flights["flight_number"] == "13"]
    # Asked 2 h before the second leg (14:10 UTC): the first left at 11:12 and landed at 13:50 UTC.
    at = (
        (second["sched_dep_utc"] - pd.Timedelta(hours=2))
        .dt.tz_convert(None)
        .to_numpy()
        .astype("datetime64[m]")
    )
    known = rotation.for_flights(second, rotation.Legs.from_flights(flights), at)
    assert {name: float(values[0]) for name, values in known.values.items()} == {
        "prev_leg_left": 1.0,
        "prev_leg_delay": 7.0,
        "turnaround_minutes": 140.0,  # 16:10 UTC scheduled departure - 13:50 UTC actual arrival
        "legs_before": 1.0,
    }


def test_a_file_that_is_not_bts_names_what_it_lacks_and_writes_nothing(
    store: LocalStore, tmp_path: Path
) -> None:
    weather = tmp_path / "asos.csv"
    weather.write_bytes(csv_bytes(IEM_ASOS, [], bts_style=False))
    with pytest.raises(UnknownFileFormat, match=r"asos.csv is not a BTS On-Time Performance file") as caught:
        bts.import_files(store, [SAMPLE, weather])
    assert "FlightDate" in str(caught.value)
    assert "CRSDepTime" in str(caught.value)
    assert store.list() == []


def test_a_reimport_changes_nothing_and_adds_to_the_days_already_there(
    store: LocalStore, tmp_path: Path
) -> None:
    first, _ = imported(store, SAMPLE)
    again, _ = imported(store, SAMPLE)
    pd.testing.assert_frame_equal(first, again)
    extra = tmp_path / "extra.csv"
    extra.write_bytes(csv_bytes(REPORTING, [flight("2019-01-04", "B6", 9, "SEA", "JFK", "0700", "1530")]))
    more, _ = imported(store, extra)
    assert len(more) == len(first) + 1


def test_files_are_read_a_chunk_at_a_time_with_the_same_result(store: LocalStore, tmp_path: Path) -> None:
    whole, _ = imported(store, SAMPLE)
    chunked, _ = imported(LocalStore(tmp_path / "chunked"), SAMPLE, chunk_rows=3)
    pd.testing.assert_frame_equal(chunked, whole)
    assert schema.check(chunked) is chunked


def test_only_the_named_airports_departures_are_kept_when_asked(store: LocalStore) -> None:
    flights, summary = imported(store, SAMPLE, airports=["HNL"])
    assert set(flights["origin"]) == {"HNL"}
    assert summary["rows_other_airports"] == 5
    assert partition_dates(store, layout.TRAINING) == [date(2019, 1, 5)]


def test_progress_counts_the_bytes_read_up_to_the_total(store: LocalStore) -> None:
    seen: list[tuple[int, int]] = []
    bts.import_files(store, [SAMPLE], progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (SAMPLE.stat().st_size, SAMPLE.stat().st_size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
