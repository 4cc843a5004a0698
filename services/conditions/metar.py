"""The Aviation Weather Center's METAR API, as its documentation describes it.

``GET {base}/metar?ids=KJFK,KLGA&format=json&hours=N``: no key; a descriptive User-Agent; a JSON
array of observations (``icaoId``, ``obsTime`` epoch seconds, ``temp``/``dewp`` °C, ``wspd``/``wgst``
knots, ``visib`` statute miles or "10+", ``altim`` hPa); 204 when nothing matches; 400 for a bad
request; 429 when polled too often (about 100 requests a minute per client). It keeps about 15 days.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pandas as pd
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from flightdelay.conditions import OBSERVATION_COLUMNS, empty_observations
from flightdelay.errors import FetchError

log = logging.getLogger(__name__)


class _Transient(FetchError):
    """Worth retrying: a timeout, a connection error, a 429 or a 5xx."""


class MetarClient:
    """Fetches observations; transient failures are retried, bounded, with a log line each."""

    def __init__(
        self, http: httpx.Client, base_url: str, *, max_attempts: int = 4, backoff_seconds: float = 1.0
    ) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/metar"
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.requests = 0

    def _get(self, stations: list[str], hours: float) -> list[Any]:
        self.requests += 1
        params = {"ids": ",".join(stations), "format": "json", "hours": f"{hours:g}"}
        try:
            response = self.http.get(self.url, params=params)
        except httpx.TransportError as exc:
            raise _Transient(f"METAR request failed: {type(exc).__name__}: {exc}") from None
        if response.status_code == 204:
            return []
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"METAR API answered {response.status_code}")
        if response.status_code != 200:
            raise FetchError(
                f"the METAR API refused the request ({response.status_code}): {response.text[:120]}"
            )
        try:
            body = response.json()
        except ValueError:
            raise _Transient("METAR API answered with something that is not JSON") from None
        if not isinstance(body, list):
            raise FetchError(f"the METAR API answered a {type(body).__name__}, not a list of observations")
        return body

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("retrying METAR request", extra={"attempt": state.attempt_number, "error": str(error)})

    def observations(self, stations: list[str], hours: float) -> list[Any]:
        """The raw observation records of the last ``hours`` at these ICAO stations."""
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.backoff_seconds, max=60),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            records: list[Any] = retrying(self._get, stations, hours)
        except _Transient as exc:
            raise FetchError(
                f"gave up on the METAR API after {self.max_attempts} attempt(s): {exc}"
            ) from None
        return records


def _number(value: Any) -> float | None:
    """A measurement: a number, or a string like "10+" (at least 10); anything else is unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.rstrip("+"))
        except ValueError:
            return None
    return None


def to_observations(records: list[Any], airports_by_icao: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """Records → the observation table (conditions.py), and why each left-out record was refused."""
    rows, refused = [], []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            refused.append(f"record {i}: not an object")
            continue
        airport = airports_by_icao.get(str(record.get("icaoId", "")).upper())
        when = record.get("obsTime")
        if airport is None:
            refused.append(f"record {i}: station {str(record.get('icaoId'))[:8]!r} was not asked for")
            continue
        if not isinstance(when, int | float) or isinstance(when, bool):
            refused.append(f"record {i}: obsTime {str(when)[:20]!r} is not epoch seconds")
            continue
        rows.append(
            {
                "airport": airport,
                "obs_utc": pd.Timestamp(int(when), unit="s", tz="UTC"),
                "temp_c": _number(record.get("temp")),
                "dewp_c": _number(record.get("dewp")),
                "wind_kt": _number(record.get("wspd")),
                "gust_kt": _number(record.get("wgst")),
                "visib_mi": _number(record.get("visib")),
                "altim_hpa": _number(record.get("altim")),
            }
        )
    if not rows:
        return empty_observations(), refused
    table = pd.DataFrame(rows, columns=list(OBSERVATION_COLUMNS)).astype({"obs_utc": "datetime64[us, UTC]"})
    for name in OBSERVATION_COLUMNS[2:]:
        table[name] = table[name].astype(float)
    return table.drop_duplicates(["airport", "obs_utc"], keep="last"), refused
