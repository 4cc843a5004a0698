"""Aviation Stack client: pages through ``/flights`` for one departure airport, for a past day
(``flight_date``: the fetcher) or as the flights stand now (no date: the real-time list the
conditions stage reads).

Transient failures (timeouts, 5xx, ``rate_limit_reached``, a malformed page) are retried with
exponential backoff and jitter, a bounded number of times; key, plan and quota errors fail at once.
A body is decoded a bounded step at a time and refused past ``max_page_bytes`` (a gzip bomb).
The access key travels only as a query parameter: no message, log line or exception text built
here contains the request URL, and the key is masked in every page the provider sends back.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from flightdelay.errors import (
    FetchError,
    PageTooLarge,
    ProviderAuthError,
    QuotaExhausted,
    RequestBudgetExceeded,
)

log = logging.getLogger(__name__)
MASKED_KEY_MIN_LENGTH = 8  # real Aviation Stack keys have 32 characters
MAX_RETRY_AFTER_SECONDS = 300.0  # a provider's Retry-After is honoured up to this
DEFAULT_MAX_PAGE_BYTES = 50 * 1024 * 1024  # as FLIGHTDELAY_FETCH_MAX_PAGE_BYTES (flightdelay/config.py)
# The most one step of decompression may produce. httpx's own decoder inflates each network read
# (64 KB) whole: about 64 MB from a gzip bomb in one step, before any bound could be checked.
DECODE_STEP = 64 * 1024

AUTH_CODES = {
    "invalid_access_key": "the access key is invalid (check FLIGHTDELAY_AVIATIONSTACK_KEY)",
    "missing_access_key": "no access key was sent (set FLIGHTDELAY_AVIATIONSTACK_KEY)",
    "inactive_user": "the Aviation Stack account is inactive",
    "https_access_restricted": "the plan does not allow HTTPS access",
    "function_access_restricted": "the plan does not allow this request "
    "(historical flight_date needs Basic or up)",
    "invalid_api_function": "the API function does not exist (check FLIGHTDELAY_AVIATIONSTACK_URL)",
}


class TransientError(FetchError):
    """Worth retrying: a timeout, a 5xx, a rate limit or a malformed page."""

    retry_after: float | None = None  # seconds the provider asked for (Retry-After), if it did


def _seconds(value: str | None) -> float | None:
    """A Retry-After header given in seconds (its date form is not used by the provider)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@dataclass
class Deadline:
    """The run's wall-clock limit: checked before every request and every wait."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def check(self, *, before_waiting: float = 0.0) -> None:
        if time.monotonic() + before_waiting > self.started + self.seconds:
            raise FetchDeadlineExceeded(
                f"the run's deadline of {self.seconds:g} s is reached (FETCH_RUN_DEADLINE_SECONDS)"
            )


class FetchDeadlineExceeded(FetchError):
    """Not retried: the run as a whole is out of time."""


@dataclass(frozen=True)
class Page:
    airport: str
    offset: int
    attempt: int
    body: bytes


@dataclass
class Budget:
    limit: int
    used: int = 0

    def spend(self) -> None:
        if self.used >= self.limit:
            raise RequestBudgetExceeded(
                f"stopped before request {self.used + 1}: the run's budget is {self.limit} requests "
                "(FLIGHTDELAY_FETCH_MAX_REQUESTS)"
            )
        self.used += 1


def _count(value: Any) -> int | None:
    """A pagination number as the provider writes it (an int, or digits in a string), else None."""
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isdigit())
    ):
        return None
    return int(value)


def _decoded(raw: Iterable[bytes], encoding: str, where: str) -> Iterator[bytes]:
    """The body decoded from its Content-Encoding (identity or gzip: what the request accepts), in
    pieces of at most DECODE_STEP bytes however much a piece of the body inflates to."""
    if encoding in ("", "identity"):
        yield from raw
        return
    if encoding not in ("gzip", "x-gzip"):
        raise TransientError(
            f"undecodable body: Content-Encoding {encoding[:20]!r} was not asked for {where}"
        )
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: the gzip wrapper, not raw zlib
    try:
        for data in raw:
            while True:  # a full step may leave output pending inside zlib: drain it a step at a time
                piece = inflate.decompress(data, DECODE_STEP)
                data = inflate.unconsumed_tail
                if piece:
                    yield piece
                if not data and len(piece) < DECODE_STEP:
                    break
    except zlib.error:
        raise TransientError(f"undecodable body: its Content-Encoding is wrong {where}") from None
    if not inflate.eof:
        raise TransientError(f"undecodable body: the gzip stream is cut short {where}")


def parse_page(status: int, body: bytes) -> dict[str, Any]:
    """The page's JSON, or the error it means (whatever the HTTP status says)."""
    try:
        payload = json.loads(body)
    except ValueError:
        if status >= 500 or status == 429:
            raise TransientError(f"provider answered HTTP {status}") from None
        raise TransientError(f"malformed page (HTTP {status}, {len(body)} bytes of invalid JSON)") from None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        code = str(payload["error"].get("code", "unknown"))
        message = str(payload["error"].get("message", ""))
        if code in AUTH_CODES:
            raise ProviderAuthError(f"Aviation Stack refused the request: {code}: {AUTH_CODES[code]}")
        if code == "usage_limit_reached":
            raise QuotaExhausted(
                "Aviation Stack monthly quota is used up (usage_limit_reached): not retrying"
            )
        if code == "rate_limit_reached" or status >= 500 or code == "internal_error":
            raise TransientError(f"provider error {code} (HTTP {status})")
        raise FetchError(f"Aviation Stack error {code} (HTTP {status}): {message}")
    if status >= 500 or status == 429:
        raise TransientError(f"provider answered HTTP {status}")
    if status >= 400:
        raise FetchError(f"provider answered HTTP {status}")
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise TransientError("malformed page: no data list")
    pagination = payload.get("pagination")
    if not isinstance(pagination, dict):
        raise TransientError("malformed page: pagination is not an object")
    total = _count(pagination.get("total"))
    if total is None:
        raise TransientError(
            f"malformed page: pagination.total is {str(pagination.get('total'))[:20]!r}, not a count"
        )
    limit = _count(pagination.get("limit"))
    if not limit:  # the next page starts at offset + limit: without one the listing cannot be followed
        raise TransientError(
            f"malformed page: pagination.limit is {str(pagination.get('limit'))[:20]!r}, not a page size"
        )
    pagination["total"], pagination["limit"] = total, limit
    return payload


class AviationStackClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        key: SecretStr,
        *,
        page_size: int = 100,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        budget: Budget | None = None,
        on_page: Callable[[Page], None] | None = None,
        page_deadline_seconds: float = 60.0,
        deadline: Deadline | None = None,
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/flights"
        self._key = key
        self.page_size = page_size
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.budget = budget or Budget(limit=10_000)
        self._on_page = on_page
        self.page_deadline_seconds = page_deadline_seconds
        self.deadline = deadline or Deadline(seconds=3600.0)
        self.max_page_bytes = max_page_bytes
        self._backoff = wait_exponential(multiplier=backoff_seconds, max=60) + wait_random(0, backoff_seconds)
        self.retries = 0
        self.pages = 0
        self.listed = 0  # records the provider's listings said they hold (pagination.total), all airports

    def _log_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "retrying Aviation Stack request",
            extra={
                "attempt": state.attempt_number,
                "error": str(error),
                "sleep_s": round(state.upcoming_sleep, 2),
            },
        )

    def _get(self, day: date | None, airport: str, offset: int, attempt: list[int]) -> dict[str, Any]:
        self.budget.spend()
        attempt[0] += 1
        params = {
            "access_key": self._key.get_secret_value(),
            "dep_iata": airport,
            "limit": str(self.page_size),
            "offset": str(offset),
        }
        if day is not None:
            params["flight_date"] = day.isoformat()
        where = f"({airport}, offset {offset})"
        self.deadline.check()
        page_deadline = time.monotonic() + self.page_deadline_seconds
        # Only what _decoded can bound: httpx would otherwise offer br or zstd when their packages are there.
        headers = {"Accept-Encoding": "gzip"}
        try:
            with self._http.stream("GET", self._url, params=params, headers=headers) as response:
                chunks = []
                size = 0
                encoding = response.headers.get("content-encoding", "").strip().lower()
                # iter_raw: the body as sent, decoded here a step at a time; each read has the
                # timeout, the page has a deadline, and its decoded size a bound.
                for chunk in _decoded(response.iter_raw(), encoding, where):
                    size += len(chunk)
                    if size > self.max_page_bytes:  # leaving the block closes the connection: no more is read
                        raise PageTooLarge(where, limit=self.max_page_bytes, decoded=size)
                    chunks.append(chunk)
                    if time.monotonic() > page_deadline:
                        raise TransientError(
                            f"the page took longer than {self.page_deadline_seconds:g} s {where}"
                        )
                content = b"".join(chunks)
        except httpx.TimeoutException:
            raise TransientError(f"request timed out ({airport}, offset {offset})") from None
        except httpx.TransportError as exc:
            raise TransientError(
                f"connection failed ({type(exc).__name__}) ({airport}, offset {offset})"
            ) from None
        # A provider error may repeat the request's key: mask it before the page is kept or read,
        # so no message, run summary or stored page can carry it.
        body = self._mask(content)
        if self._on_page:  # raw first: keep the page as received (key masked), before parsing it
            self._on_page(Page(airport, offset, attempt[0], body))
        try:
            return parse_page(response.status_code, body)
        except TransientError as exc:
            exc.retry_after = _seconds(response.headers.get("retry-after"))
            raise

    def _mask(self, body: bytes) -> bytes:
        key = self._key.get_secret_value()
        if len(key) < MASKED_KEY_MIN_LENGTH:  # a toy key (tests, replays) would mask ordinary text
            return body
        for form in {key, quote(key, safe=""), json.dumps(key)[1:-1]}:
            body = body.replace(form.encode(), b"***")
        return body

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, or longer when the provider said how long (Retry-After)."""
        backoff = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        wait = max(backoff, min(asked, MAX_RETRY_AFTER_SECONDS)) if asked else backoff
        self.deadline.check(before_waiting=wait)
        return float(wait)

    def page(self, day: date | None, airport: str, offset: int) -> dict[str, Any]:
        attempt = [0]
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            payload: dict[str, Any] = retrying(self._get, day, airport, offset, attempt)
        except TransientError as exc:
            raise FetchError(f"gave up after {attempt[0]} attempt(s): {exc}") from None
        self.pages += 1
        return payload

    def flights(self, day: date | None, airport: str) -> Iterator[dict[str, Any]]:
        """Every record for flights departing ``airport`` on ``day`` (None: as they stand now), page
        by page.

        Aviation Stack's contract (aviationstack.com/documentation): ``offset`` is a position in the
        whole listing ("an offset of 10 in combination with a limit of 10 will show results 10-20"),
        and ``pagination`` returns the ``limit`` applied, the ``count`` on this page and the ``total``
        of the listing. A page therefore covers ``limit`` positions even when it holds fewer records
        (``count < limit`` before the end: records the provider left out). The next page starts at
        offset + limit, the limit as the provider reports it (a plan may cap the one asked for),
        until offset reaches total. Stepping by ``count`` instead asks again for the part of the
        window already answered (records twice, more requests), and stopping at an empty page drops
        every page after it.
        """
        offset = 0
        first_total: int | None = None
        while True:
            payload = self.page(day, airport, offset)
            total, limit = payload["pagination"]["total"], payload["pagination"]["limit"]
            if first_total is None:
                first_total = total
                self.listed += total
            if total < first_total:  # the day changed under the fetch: part of it would be lost
                raise FetchError(
                    f"pagination.total shrank from {first_total} to {total} mid-run ({airport}, offset "
                    f"{offset}): the provider's day changed while it was read; re-run the day"
                )
            yield from payload["data"]
            offset += limit
            if offset >= total:
                return
