"""Aviation Stack flight records → the normalized flight table.

The provider's times end in "+00:00" but are the airport's local wall clock: the offset is dropped
and each time is read in its airport's IANA zone (departure.timezone / arrival.timezone), then
converted to UTC. Codeshare entries (``flight.codeshared`` set) repeat an operated flight under a
marketing number: they are mapped to the operating flight and kept once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from flightdelay import schema
from flightdelay.airports import airport_table, great_circle_km
from flightdelay.rotation import tail as _tail


@dataclass
class Normalized:
    clean: pd.DataFrame
    rejected: pd.DataFrame  # normalized columns + "reason"
    records: int
    duplicates: int


def _local(values: list[Any]) -> pd.Series:
    """ISO strings with a meaningless offset → naive local datetimes (NaT when absent or unparseable)."""
    text = pd.Series(values, dtype=object).astype("string").str.slice(0, 19)
    return pd.to_datetime(text, format="%Y-%m-%dT%H:%M:%S", errors="coerce").astype(schema.LOCAL)


def _minutes(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 60.0


def _upper(values: Iterable[Any]) -> list[Any]:
    return [v.upper() if isinstance(v, str) else v for v in values]


def _extract(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Column lists from nested records (comprehensions: this is the fetcher's hot loop)."""
    empty: dict[str, Any] = {}
    deps = [r.get("departure") or empty for r in records]
    arrs = [r.get("arrival") or empty for r in records]
    flights = [r.get("flight") or empty for r in records]
    airlines = [r.get("airline") or empty for r in records]
    aircraft: list[dict[str, Any]] = [
        a if isinstance(a := r.get("aircraft"), dict) else empty for r in records
    ]
    shared = [f.get("codeshared") or None for f in flights]
    return {
        "flight_date": [r.get("flight_date") for r in records],
        "status": [r.get("flight_status") for r in records],
        # A marketing copy is identified by the flight that operates it.
        "carrier": [
            s.get("airline_iata") if s else a.get("iata") for s, a in zip(shared, airlines, strict=True)
        ],
        "flight_number": [
            s.get("flight_number") if s else f.get("number") for s, f in zip(shared, flights, strict=True)
        ],
        "codeshare": [s is not None for s in shared],
        "origin": [d.get("iata") for d in deps],
        "dest": [a.get("iata") for a in arrs],
        "origin_tz": [d.get("timezone") for d in deps],
        "dest_tz": [a.get("timezone") for a in arrs],
        "dep_sched": [d.get("scheduled") for d in deps],
        "dep_actual": [d.get("actual") or d.get("actual_runway") for d in deps],
        "dep_delay": [d.get("delay") for d in deps],
        "arr_sched": [a.get("scheduled") for a in arrs],
        "arr_actual": [a.get("actual") or a.get("actual_runway") for a in arrs],
        "arr_delay": [a.get("delay") for a in arrs],
        # Null until the provider knows which aircraft flies it.
        "tail_number": [a.get("registration") for a in aircraft],
        "icao24": [a.get("icao24") for a in aircraft],
    }


NESTED = ("departure", "arrival", "flight", "airline")


def unreadable(record: Any) -> str:
    """Why a record cannot be read at all ("" when it can): it must be an object of objects."""
    if not isinstance(record, dict):
        return f"record: a {type(record).__name__}, not an object"
    for name in NESTED:
        if record.get(name) is not None and not isinstance(record[name], dict):
            return f"{name}: a {type(record[name]).__name__}, not an object"
    return ""


def normalize(records: list[Any], *, day: str | None = None) -> Normalized:
    """Records of one or more pages → clean rows (one per operated flight) and rejected rows with a reason.

    A record that is not an object of objects is quarantined with its reason and an excerpt; the
    rest of the day is kept.
    """
    reasons = [unreadable(r) for r in records]
    quarantined = pd.DataFrame(
        {
            "reason": [r for r in reasons if r],
            "record": [str(rec)[:200] for rec, r in zip(records, reasons, strict=True) if r],
        }
    )
    records = [rec for rec, r in zip(records, reasons, strict=True) if not r]
    result = _normalize(records, day=day)
    if len(quarantined):
        result.rejected = pd.concat([result.rejected, quarantined], ignore_index=True)
        result.records += len(quarantined)
    return result


def _normalize(records: list[dict[str, Any]], *, day: str | None = None) -> Normalized:
    c = _extract(records)
    zones = airport_table()["tz"]
    origin = pd.Series(_upper(c["origin"]), dtype=object)
    dest = pd.Series(_upper(c["dest"]), dtype=object)
    origin_tz = pd.Series(c["origin_tz"], dtype=object).fillna(origin.map(zones))
    dest_tz = pd.Series(c["dest_tz"], dtype=object).fillna(dest.map(zones))
    dep_sched, arr_sched = _local(c["dep_sched"]), _local(c["arr_sched"])
    dep_actual, arr_actual = _local(c["dep_actual"]), _local(c["arr_actual"])
    sched_dep_utc, sched_arr_utc = schema.localize(dep_sched, origin_tz), schema.localize(arr_sched, dest_tz)
    actual_dep_utc, actual_arr_utc = (
        schema.localize(dep_actual, origin_tz),
        schema.localize(arr_actual, dest_tz),
    )
    status = pd.Series(c["status"], dtype=object)
    no_arrival = status.isin(["cancelled", "diverted"]).to_numpy()
    # The provider's delay when given; otherwise actual minus scheduled (which may be negative).
    dep_delay = pd.to_numeric(pd.Series(c["dep_delay"], dtype=object), errors="coerce").astype(float)
    dep_delay = dep_delay.fillna(_minutes(actual_dep_utc, sched_dep_utc))
    arr_delay = pd.to_numeric(pd.Series(c["arr_delay"], dtype=object), errors="coerce").astype(float)
    arr_delay = arr_delay.fillna(_minutes(actual_arr_utc, sched_arr_utc)).where(~no_arrival, np.nan)
    frame = pd.DataFrame(
        {
            "flight_date": pd.to_datetime(
                pd.Series(c["flight_date"], dtype=object), format="%Y-%m-%d", errors="coerce"
            ),
            "carrier": _upper(c["carrier"]),
            "flight_number": [str(v) if v is not None else None for v in c["flight_number"]],
            "origin": origin,
            "dest": dest,
            "origin_tz": origin_tz,
            "dest_tz": dest_tz,
            "sched_dep_local": dep_sched,
            "sched_arr_local": arr_sched,
            "sched_dep_utc": sched_dep_utc,
            "sched_arr_utc": sched_arr_utc,
            "actual_dep_utc": actual_dep_utc,
            "actual_arr_utc": actual_arr_utc,
            "dep_delay": dep_delay,
            "arr_delay": arr_delay,
            "status": status,
            "distance_km": great_circle_km(origin, dest),
            "tail_number": [_tail(v) for v in c["tail_number"]],
            "icao24": [v.strip().upper() if isinstance(v, str) and v.strip() else None for v in c["icao24"]],
        }
    )
    normalized = schema.conform(frame)
    normalized["_codeshare"] = c["codeshare"]
    valid, rejected = schema.split_valid(normalized)
    if day is not None:
        other_day = valid["flight_date"] != pd.Timestamp(day)
        if other_day.any():
            moved = valid[other_day].assign(reason=f"flight_date: not the requested day {day}")
            rejected = pd.concat([rejected, moved], ignore_index=True)
            valid = valid[~other_day]
    # Operating entries first, so the copy kept for each flight is the operator's own record.
    ranked = valid.sort_values("_codeshare", kind="stable")
    clean = ranked.drop_duplicates(schema.FLIGHT_KEY, keep="first").sort_values(
        ["sched_dep_utc", *schema.FLIGHT_KEY]
    )
    clean = clean.drop(columns="_codeshare")
    rejected = rejected.drop(columns="_codeshare")
    return Normalized(
        clean=clean.reset_index(drop=True),
        rejected=rejected.reset_index(drop=True),
        records=len(records),
        duplicates=len(ranked) - len(clean),
    )
