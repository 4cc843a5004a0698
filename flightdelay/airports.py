"""Airport facts from the ``airportsdata`` package: IANA time zone and coordinates by IATA code."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088


@cache
def airport_table() -> pd.DataFrame:
    """One row per IATA airport: tz, lat, lon (indexed by code)."""
    import airportsdata

    rows = airportsdata.load("IATA")
    table = pd.DataFrame.from_dict(rows, orient="index")[["tz", "lat", "lon"]]
    table.index.name = "iata"
    return table


def timezone_of(code: str) -> str | None:
    table = airport_table()
    return str(table.at[code, "tz"]) if code in table.index else None


def great_circle_km(origin: pd.Series, dest: pd.Series) -> pd.Series:
    """Haversine distance between airports; NaN where either code is unknown."""
    table = airport_table()
    o = table.reindex(origin.to_numpy())
    d = table.reindex(dest.to_numpy())
    lat1, lon1 = np.radians(o["lat"].to_numpy(float)), np.radians(o["lon"].to_numpy(float))
    lat2, lon2 = np.radians(d["lat"].to_numpy(float)), np.radians(d["lon"].to_numpy(float))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    return pd.Series(np.round(km, 1), index=origin.index, name="distance_km")


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
    return {str(code): str(tz) for code, tz in airport_table()["tz"].items()}
