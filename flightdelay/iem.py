"""The IEM ASOS archive's CSV (Iowa Environmental Mesonet, mesonet.agron.iastate.edu, the
``asos.py`` download) into the weather observations conditions.py reads, so training on a user's
own history knows the weather as it was known at each time.

The layout: one row per report, ``station`` (the FAA identifier, "DEN", or the ICAO one, "KDEN"),
``valid`` (UTC, "YYYY-MM-DD HH:MM", the download's default time zone), ``tmpf``/``dwpf`` (°F),
``sknt``/``gust`` (knots), ``vsby`` (statute miles), ``alti`` (inches of mercury), "M" where
missing; lines starting with "#" are the service's notes. The stations become IATA airports
(airportsdata); a station no airport matches, or a time that is not one, is left out with why.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flightdelay import imports, layout
from flightdelay.airports import timezones
from flightdelay.conditions import OBSERVATION_COLUMNS
from flightdelay.errors import ObjectNotFound, UnknownFileFormat
from flightdelay.partitions import write_observations
from flightdelay.storage import ObjectStore

WHAT = "an IEM ASOS CSV download"
REQUIRED = ("station", "valid")
MEASURES = ("tmpf", "dwpf", "sknt", "gust", "vsby", "alti")
INHG_TO_HPA = 33.8639
CHUNK_ROWS = 200_000


@cache
def _by_icao() -> dict[str, str]:
    import airportsdata

    return {str(row["icao"]): code for code, row in airportsdata.load("IATA").items() if row.get("icao")}


def station_airports(stations: pd.Series) -> pd.Series:
    """IEM station ids → IATA codes: a 3-letter FAA id that is an IATA code, or an ICAO id
    ("KDEN"); None where no airport matches."""
    codes = stations.fillna("").str.strip().str.upper()
    iata = timezones()
    as_iata = codes.where(codes.isin(iata.keys()))
    as_icao = codes.map(_by_icao())
    return as_iata.fillna(as_icao).astype(object).where(lambda s: s.notna(), None)


def _number(values: pd.Series | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    numbers: np.ndarray = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return numbers


def normalize(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One chunk of an IEM file → (observations in conditions.py's units, rejected rows with why)."""
    airport = station_airports(raw["station"])
    when = pd.to_datetime(raw["valid"].str.strip(), format="%Y-%m-%d %H:%M", utc=True, errors="coerce")
    reasons = pd.Series("", index=raw.index, dtype=object)
    reasons[when.isna()] = "valid: " + raw["valid"].fillna("") + " is not a UTC time YYYY-MM-DD HH:MM"
    unknown = airport.isna() & (reasons == "")
    reasons[unknown] = "station: " + raw["station"].fillna("") + " is no known airport"
    n = len(raw)
    column = {name: _number(raw[name] if name in raw.columns else None, n) for name in MEASURES}
    table = pd.DataFrame(
        {
            "airport": airport,
            "obs_utc": when.astype("datetime64[us, UTC]"),
            "temp_c": np.round((column["tmpf"] - 32.0) * 5.0 / 9.0, 1),
            "dewp_c": np.round((column["dwpf"] - 32.0) * 5.0 / 9.0, 1),
            "wind_kt": column["sknt"],
            "gust_kt": column["gust"],
            "visib_mi": column["vsby"],
            "altim_hpa": np.round(column["alti"] * INHG_TO_HPA, 1),
        },
        index=raw.index,
    )[list(OBSERVATION_COLUMNS)]
    bad = reasons != ""
    return table[~bad].reset_index(drop=True), raw[bad].assign(reason=reasons[bad])


def upsert_day(store: ObjectStore, day: date, rows: pd.DataFrame) -> int:
    """Merge a day's observations into its partition (a re-import adds nothing twice)."""
    try:
        existing = pd.read_parquet(
            io.BytesIO(store.get(layout.partition_key(layout.WEATHER, day, layout.OBSERVATIONS_FILE)).data)
        )
        rows = pd.concat([existing, rows], ignore_index=True)
    except ObjectNotFound:
        pass
    return write_observations(store, day, rows.drop_duplicates(["airport", "obs_utc"], keep="last"))


def import_files(
    store: ObjectStore,
    paths: Sequence[Path],
    *,
    run_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Import IEM ASOS files into ``conditions/weather/``, a chunk at a time; UnknownFileFormat
    (before anything is written) for a file that lacks the layout's columns."""
    run_id = run_id or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    columns: list[list[str]] = []
    for path in paths:
        names = imports.header(path, expected=WHAT, comment="#")
        missing = [c for c in REQUIRED if c not in names]
        if not any(m in names for m in MEASURES):
            missing.append("any of " + ", ".join(MEASURES))
        if missing:
            raise UnknownFileFormat(str(path), expected=WHAT, missing=["columns " + ", ".join(missing)])
        columns.append([c for c in (*REQUIRED, *MEASURES) if c in names])
    sizes: list[int] = []
    for path in paths:
        with imports.open_download(path, expected=WHAT) as (_, size):
            sizes.append(size)
    total, done = sum(sizes), 0
    files: list[dict[str, Any]] = []
    days: set[date] = set()
    airports: set[str] = set()
    written = kept = 0
    for path, wanted, size in zip(paths, columns, sizes, strict=True):
        report: dict[str, Any] = {"file": path.name, "rows_read": 0, "observations": 0, "rows_rejected": 0}
        rejected: list[pd.DataFrame] = []
        by_field: dict[str, int] = {}

        def on_read(count: int, base: int = done) -> None:
            if progress:
                progress(base + count, total)

        with imports.open_download(path, expected=WHAT, on_read=on_read) as (stream, _):
            for raw in imports.read_chunks(stream, wanted, chunk_rows=chunk_rows, comment="#"):
                observations, bad = normalize(raw)
                report["rows_read"] += len(raw)
                report["observations"] += len(observations)
                report["rows_rejected"] += len(bad)
                imports.first_reasons(bad["reason"], by_field)
                rejected.append(bad)
                for day, rows in observations.groupby(observations["obs_utc"].dt.date, sort=True):
                    written += upsert_day(store, day, rows)
                    days.add(day)
                airports.update(observations["airport"].unique())
                kept += len(observations)
        report["rejected_by_field"] = by_field
        report["rejected_key"] = imports.keep_rejected(store, run_id, path.name, rejected, weather=True)
        files.append(report)
        done += size
        if progress:
            progress(done, total)
    ordered = sorted(days)
    summary: dict[str, Any] = {
        "stage": "seed",
        "source": "iem-asos",
        "run_id": run_id,
        "store": store.url,
        "prefix": layout.WEATHER,
        "files": files,
        "observations": kept,
        "rows_dropped": sum(f["rows_rejected"] for f in files),
        "airports": sorted(airports),
        "first_date": ordered[0].isoformat() if ordered else None,
        "last_date": ordered[-1].isoformat() if ordered else None,
        "partitions": len(ordered),
        "bytes_written": written,
    }
    store.put(layout.weather_import_summary(), json.dumps(summary, indent=2).encode())
    return summary
