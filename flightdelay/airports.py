"""Airport facts from the ``airportsdata`` package: IANA time zone and coordinates by IATA code."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import airportsdata
    import pandas as pd

EARTH_RADIUS_KM = 6371.0088
IATA_AIRPORT = r"^[A-Z]{3}$"


def airport_codes(value: str | list[str]) -> list[str]:
    """Comma-separated (or listed) airport codes, upper-cased; ValueError naming any that is not IATA."""
    items = value.split(",") if isinstance(value, str) else value
    codes = [code.strip().upper() for code in items if code.strip()]
    if not codes:
        raise ValueError("name at least one airport")
    bad = [code for code in codes if not re.fullmatch(IATA_AIRPORT, code)]
    if bad:
        raise ValueError(f"not IATA airport codes: {', '.join(bad)}")
    return codes


@cache
def _airports() -> dict[str, airportsdata.Airport]:
    import airportsdata

    return airportsdata.load("IATA")


@cache
def airport_table() -> pd.DataFrame:
    """One row per IATA airport: tz, lat, lon (indexed by code)."""
    import pandas as pd  # here, not above: settings check codes with timezones(), without pandas

    rows = _airports()
    table = pd.DataFrame.from_dict(rows, orient="index")[["tz", "lat", "lon"]]
    table.index.name = "iata"
    return table


def distance_km(origin: Iterable[Any], dest: Iterable[Any]) -> np.ndarray:
    """Great-circle (haversine) distance between airports, per pair; NaN where a code is unknown."""
    table = coordinates()
    missing = (np.nan, np.nan)
    a = np.array([table.get(code, missing) for code in origin], dtype=float).reshape(-1, 2)
    b = np.array([table.get(code, missing) for code in dest], dtype=float).reshape(-1, 2)
    lat1, lon1, lat2, lon2 = (np.radians(v) for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    km: np.ndarray = np.round(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)), 1)
    return km


def great_circle_km(origin: pd.Series, dest: pd.Series) -> pd.Series:
    """``distance_km`` as a Series aligned with ``origin``, for the normalized table."""
    import pandas as pd

    return pd.Series(distance_km(origin, dest), index=origin.index, name="distance_km")


@cache
def coordinates() -> dict[str, tuple[float, float]]:
    """IATA code → (lat, lon), as a plain dict for fast per-flight lookups."""
    table = airport_table()
    return {
        str(code): (float(lat), float(lon))
        for code, lat, lon in zip(table.index, table["lat"], table["lon"], strict=True)
    }


@cache
def timezones() -> dict[str, str]:
    """IATA code → IANA time zone."""
    return {str(code): str(row["tz"]) for code, row in _airports().items()}


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """The codes no IATA airport has (a provider answers one with an empty day, not an error)."""
    return [code for code in codes if code not in timezones()]


@cache
def _icao() -> dict[str, str]:
    return {code: str(row["icao"]) for code, row in _airports().items() if row.get("icao")}


def icao_codes(iata: Iterable[str]) -> dict[str, str]:
    """IATA code → ICAO code (the weather stations' names), for the codes that have one."""
    table = _icao()
    return {code: table[code] for code in iata if code in table}
