"""The normalized flight table: the one shape every part of the system reads and writes.

One row is one operated flight (codeshares removed). Local times are the airport's wall clock
(naive), with the airport's IANA zone beside them; UTC times are timezone-aware.
The label is ``arr_delay >= 15`` (the US DOT on-time rule); cancelled and diverted flights keep
their status but have no arrival delay, so they carry no label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from flightdelay.airports import IATA_AIRPORT, airport_codes
from flightdelay.errors import SchemaValidationError

DELAY_THRESHOLD_MINUTES = 15.0
STATUSES = ("scheduled", "active", "landed", "cancelled", "incident", "diverted")
LOCAL = "datetime64[us]"
UTC_TS = "datetime64[us, UTC]"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    required: bool
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("flight_date", LOCAL, True, "scheduled departure date, local to the origin"),
    Column("carrier", "str", True, "operating airline, IATA code"),
    Column("flight_number", "str", True, "flight number without the airline code"),
    Column("origin", "str", True, "departure airport, IATA code"),
    Column("dest", "str", True, "arrival airport, IATA code"),
    Column("origin_tz", "str", True, "IANA time zone of the origin"),
    Column("dest_tz", "str", True, "IANA time zone of the destination"),
    Column("sched_dep_local", LOCAL, True, "scheduled departure, origin wall clock"),
    Column("sched_arr_local", LOCAL, True, "scheduled arrival, destination wall clock"),
    Column("sched_dep_utc", UTC_TS, True, "scheduled departure, UTC"),
    Column("sched_arr_utc", UTC_TS, True, "scheduled arrival, UTC"),
    Column("actual_dep_utc", UTC_TS, False, "actual departure, UTC, where known"),
    Column("actual_arr_utc", UTC_TS, False, "actual arrival, UTC, where known"),
    Column("dep_delay", "float64", False, "departure delay, minutes"),
    Column("arr_delay", "float64", False, "arrival delay, minutes (the label's source)"),
    Column("status", "str", True, "one of " + ", ".join(STATUSES)),
    Column("distance_km", "float64", False, "great-circle distance between the airports"),
    # Added after the first release: older partitions lack them and read as null (conform). The
    # aircraft: rotation.py links a flight to its earlier flights of the day through its tail number.
    Column("tail_number", "str", False, "the aircraft's registration, where the source gives it"),
    Column("icao24", "str", False, "the aircraft's ICAO 24-bit transponder address, where known"),
)
COLUMN_NAMES = [c.name for c in COLUMNS]
# One operated flight: a codeshare copy or a re-fetched day repeats it, and the copies count once.
FLIGHT_KEY = ["flight_date", "carrier", "flight_number", "origin"]

# The code rules every edge checks (the table, the API's bodies, settings, command options).
IATA_CARRIER = r"^[A-Z0-9]{2}$"
FLIGHT_NUMBER = r"^[0-9]{1,5}[A-Z]?$"
_PATTERNS = {
    "carrier": (IATA_CARRIER, "is not a 2-character IATA airline code"),
    "flight_number": (FLIGHT_NUMBER, "is not a flight number"),
    "origin": (IATA_AIRPORT, "is not a 3-letter IATA airport code"),
    "dest": (IATA_AIRPORT, "is not a 3-letter IATA airport code"),
}
MAX_BLOCK_MINUTES = 20 * 60
DELAY_RANGE = (-180.0, 48 * 60.0)


def known_airports(codes: str | list[str], *, source: str) -> list[str]:
    """IATA codes (comma-separated or listed), upper-cased; ConfigError naming any that is not an
    airport's, and ``source`` (the option or variable they came from)."""
    from flightdelay.airports import unknown_codes
    from flightdelay.errors import ConfigError

    try:
        listed = airport_codes(codes)
    except ValueError as exc:
        raise ConfigError(f"airports: {exc} ({source})") from None
    unknown = unknown_codes(listed)
    if unknown:
        raise ConfigError(
            f"unknown airport code {', '.join(unknown)}: no IATA airport has it ({source}; e.g. DEN,SEA)"
        )
    return listed


def empty() -> pd.DataFrame:
    """A table with no rows and the right columns and types."""
    return conform(pd.DataFrame({name: [] for name in COLUMN_NAMES}))


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """The columns of the schema, in order, with their dtypes (missing optional columns as nulls)."""
    out = pd.DataFrame(index=df.index)
    for col in COLUMNS:
        values = df[col.name] if col.name in df.columns else pd.Series(None, index=df.index, dtype=object)
        if col.dtype == "str":
            out[col.name] = values.astype("string").astype(object).where(values.notna(), None)
        elif col.dtype == UTC_TS:
            out[col.name] = pd.to_datetime(values, utc=True).astype(UTC_TS)
        elif col.dtype == LOCAL:
            out[col.name] = pd.to_datetime(values).astype(LOCAL)
        else:
            out[col.name] = pd.to_numeric(values, errors="coerce").astype(col.dtype)
    return out.reset_index(drop=True)


def labelled(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with a known arrival delay (landed flights): the ones a model can learn from."""
    return df[df["arr_delay"].notna()]


def target(df: pd.DataFrame) -> np.ndarray:
    """1 where the flight arrived 15+ minutes late."""
    labels: np.ndarray = (df["arr_delay"].to_numpy(float) >= DELAY_THRESHOLD_MINUTES).astype(np.int8)
    return labels


def problems(df: pd.DataFrame) -> pd.Series:
    """For each row, the first reason it breaks the schema ("field: why"), or "" when valid."""
    reasons = pd.Series("", index=df.index, dtype=object)

    def flag(mask: pd.Series | np.ndarray, reason: pd.Series | str) -> None:
        mask = pd.Series(mask, index=df.index).fillna(False).astype(bool) & (reasons == "")
        if mask.any():
            reasons.loc[mask] = reason[mask] if isinstance(reason, pd.Series) else reason

    for col in COLUMNS:
        if col.required:
            flag(df[col.name].isna(), f"{col.name}: missing")
    for name, (pattern, why) in _PATTERNS.items():
        values = df[name].astype("string")
        flag(~values.str.fullmatch(pattern).fillna(False), name + ": " + values.fillna("") + f" {why}")
    flag(df["origin"] == df["dest"], "dest: same airport as origin")
    flag(~df["status"].isin(STATUSES), "status: " + df["status"].astype("string").fillna("") + " is unknown")
    block = (df["sched_arr_utc"] - df["sched_dep_utc"]).dt.total_seconds() / 60
    flag(block <= 0, "sched_arr_utc: not after the scheduled departure")
    flag(block > MAX_BLOCK_MINUTES, "sched_arr_utc: more than 20 hours after the scheduled departure")
    for name in ("dep_delay", "arr_delay"):
        values = df[name]
        flag(values.notna() & ~values.between(*DELAY_RANGE), f"{name}: outside {DELAY_RANGE} minutes")
    flag(
        df["arr_delay"].notna() & df["status"].isin(["cancelled", "diverted"]),
        "arr_delay: a cancelled or diverted flight has no arrival delay",
    )
    flag(df["distance_km"].notna() & (df["distance_km"] <= 0), "distance_km: not positive")
    return reasons


def split_valid(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid rows, rejected rows with a ``reason`` column)."""
    reasons = problems(df)
    bad = reasons != ""
    rejected = df[bad].copy()
    rejected["reason"] = reasons[bad]
    return df[~bad].reset_index(drop=True), rejected.reset_index(drop=True)


def check(df: pd.DataFrame) -> pd.DataFrame:
    """The table unchanged if every row is valid; otherwise SchemaValidationError naming rows and fields."""
    missing = [name for name in COLUMN_NAMES if name not in df.columns]
    if missing:
        raise SchemaValidationError([f"column {name}: missing" for name in missing])
    reasons = problems(df)
    bad = reasons[reasons != ""]
    if len(bad):
        raise SchemaValidationError([f"row {i}: {r}" for i, r in bad.head(20).items()], total=len(bad))
    return df


def localize(local: pd.Series, tz: pd.Series) -> pd.Series:
    """Wall-clock times in each row's IANA zone → UTC (NaT where the zone is unknown).

    Pandas converts the times that exist once; the few in a gap or a fold (the spring-forward and
    fall-back hours) are converted by ``local_to_utc``, the one rule for both paths: pandas'
    ``shift_forward`` moved Lord Howe's 30-minute and Chatham's 45-minute gaps by a whole hour.
    """
    out = pd.Series(pd.NaT, index=local.index, dtype=UTC_TS)
    local = pd.to_datetime(local).astype(LOCAL)
    for zone, idx in tz.groupby(tz, sort=False).groups.items():
        values = local.loc[idx]
        try:
            converted = values.dt.tz_localize(str(zone), ambiguous="NaT", nonexistent="NaT")
        except (KeyError, ValueError):  # not an IANA zone: the rows stay NaT and fail validation
            continue
        converted = converted.dt.tz_convert("UTC").astype(UTC_TS)
        edge = converted.isna() & values.notna()
        if edge.any():
            converted[edge] = pd.to_datetime(
                [local_to_utc(t.to_pydatetime(warn=False), str(zone)) for t in values[edge]]
            ).tz_localize("UTC")
        out.loc[idx] = converted
    return out


def from_schedule(df: pd.DataFrame) -> pd.DataFrame:
    """What a caller knows before departure → normalized rows ready for the features.

    ``df`` has carrier, origin, dest, sched_dep_local and optionally flight_number and
    sched_arr_local. Zones and UTC times come from the airports' IANA zones; an unknown airport
    leaves them empty, which the features treat as missing rather than an error.
    """
    from flightdelay.airports import airport_table, great_circle_km

    zones = airport_table()["tz"]
    out = pd.DataFrame(index=df.index)
    for name in ("carrier", "origin", "dest"):
        out[name] = df[name].astype(object)
    out["flight_number"] = df.get("flight_number", None)
    out["origin_tz"] = df["origin"].map(zones)
    out["dest_tz"] = df["dest"].map(zones)
    out["sched_dep_local"] = pd.to_datetime(df["sched_dep_local"]).astype(LOCAL)
    arr = df["sched_arr_local"] if "sched_arr_local" in df else pd.Series(pd.NaT, index=df.index)
    out["sched_arr_local"] = pd.to_datetime(arr).astype(LOCAL)
    out["flight_date"] = out["sched_dep_local"].dt.normalize()
    out["sched_dep_utc"] = localize(out["sched_dep_local"], out["origin_tz"])
    out["sched_arr_utc"] = localize(out["sched_arr_local"], out["dest_tz"])
    out["status"] = "scheduled"
    out["distance_km"] = great_circle_km(df["origin"], df["dest"])
    return conform(out)


@lru_cache(maxsize=131_072)  # schedules repeat the same (time, zone) pairs; the function is pure
def local_to_utc(local: datetime, zone: str | None) -> datetime | None:
    """One wall-clock time in an IANA zone → naive UTC, by the same rules as ``localize``.

    For the API's few flights per request, where a DataFrame would cost more than the model, and
    for the few times of a batch in a gap or a fold: ambiguous times (the fall-back hour) read as the
    earlier instant (daylight time), nonexistent ones (a spring-forward gap, Apia's skipped day) as the
    end of the gap. None when the zone is unknown.
    """
    tz = _zone(zone)
    if tz is None:
        return None
    earlier = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if earlier.astimezone(tz).replace(tzinfo=None) == local:
        return earlier.replace(tzinfo=None)
    # In a gap: the instant the clocks moved lies between the time read with the offset after the
    # change (before it) and with the offset before (after it); found to the minute by halving.
    before, after = local.replace(tzinfo=tz, fold=1).astimezone(UTC), earlier
    offset = after.astimezone(tz).utcoffset()
    while after - before > _MINUTE:
        middle = before + (after - before) // _MINUTE // 2 * _MINUTE
        if middle.astimezone(tz).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after.replace(tzinfo=None)


_MINUTE = timedelta(minutes=1)


@cache
def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
