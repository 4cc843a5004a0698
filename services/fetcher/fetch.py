"""One fetch run: pull a day of flights, keep raw pages, write the clean partition, report.

Every page is kept as received before parsing; rejected rows are kept with their reason; the
clean partition is replaced whole only when the run succeeds; every run leaves its summary,
success or failure (the keys: flightdelay/layout.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from flightdelay import layout
from flightdelay.aviationstack import AviationStackClient, Budget, Deadline, Page
from flightdelay.config import Settings
from flightdelay.errors import ConfigError, FetchError
from flightdelay.logs import register_secret
from flightdelay.normalize import normalize
from flightdelay.partitions import read_partitions, write_partition
from flightdelay.schema import known_airports as known_iata
from flightdelay.storage import ObjectStore

log = logging.getLogger(__name__)


def _refuse_a_worse_day(
    settings: Settings, data: ObjectStore, day: date, *, kept: int, records: int, rejected: int
) -> None:
    key = layout.partition_key(layout.NEW_CLEAN, day)
    if not data.exists(key):
        return
    existing = len(read_partitions(data, layout.NEW_CLEAN, day, day))
    share = rejected / records if records else 0.0
    if existing and (kept == 0 or share > settings.fetch_max_rejected_share):
        raise FetchError(
            f"refusing to replace {key} ({existing:,} flights) with {kept:,} flights "
            f"({rejected:,} of {records:,} records rejected): re-run with --force if the provider's day "
            "really is this"
        )


def known_airports(codes: str | list[str]) -> list[str]:
    """IATA codes, upper-cased; ConfigError naming any that is not an airport. The provider answers
    an unknown code with an empty day, which would pass for a quiet one."""
    return known_iata(codes, source="--airports or FLIGHTDELAY_FETCH_AIRPORTS")


def yesterday_utc() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def new_run_id() -> str:
    return layout.new_run_id(datetime.now(UTC))


def run_fetch(
    settings: Settings,
    data: ObjectStore,
    day: date | None = None,
    airports: list[str] | None = None,
    *,
    http: httpx.Client | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Fetch ``day`` (default yesterday, UTC) for ``airports``; returns the run summary.

    A day that would replace a non-empty clean partition with no flights, or with a day whose
    records were mostly rejected (FLIGHTDELAY_FETCH_MAX_REJECTED_SHARE), is refused unless ``force``.
    """
    airports = known_airports(airports or settings.fetch_airports)
    if settings.aviationstack_key is None:
        raise ConfigError("FLIGHTDELAY_AVIATIONSTACK_KEY is not set: the fetcher needs an Aviation Stack key")
    register_secret(settings.aviationstack_key.get_secret_value())
    day = day or yesterday_utc()
    run_id = new_run_id()
    raw_prefix = layout.raw_prefix(day, run_id)
    started = time.perf_counter()
    summary: dict[str, Any] = {
        "stage": "fetch",
        "run_id": run_id,
        "date": day.isoformat(),
        "airports": airports,
    }

    def keep_raw(page: Page) -> None:
        key = layout.raw_page(day, run_id, airport=page.airport, offset=page.offset, attempt=page.attempt)
        data.put(key, page.body, if_absent=True)

    budget = Budget(limit=settings.fetch_max_requests)
    own_http = http is None
    http = http or httpx.Client(timeout=settings.fetch_timeout_seconds)
    client = AviationStackClient(
        http,
        settings.aviationstack_url,
        settings.aviationstack_key,
        page_size=settings.fetch_page_size,
        max_attempts=settings.fetch_max_attempts,
        backoff_seconds=settings.fetch_backoff_seconds,
        budget=budget,
        on_page=keep_raw,
        page_deadline_seconds=settings.fetch_page_deadline_seconds,
        deadline=Deadline(seconds=settings.fetch_run_deadline_seconds),
        max_page_bytes=settings.fetch_max_page_bytes,
    )
    records: list[dict[str, Any]] = []
    try:
        for airport in airports:
            before = len(records)
            records.extend(client.flights(day, airport))
            log.info(
                "fetched airport",
                extra={"airport": airport, "records": len(records) - before, "date": str(day)},
            )
        result = normalize(records, day=day.isoformat())
        if len(result.rejected):
            # to_json writes null for a missing value: every line is strict JSON (no bare NaN)
            lines = result.rejected.to_json(
                orient="records", lines=True, date_format="iso", default_handler=str
            )
            data.put(layout.rejected(day, run_id), lines.encode())
        if not force:
            _refuse_a_worse_day(settings, data, day, kept=len(result.clean), records=result.records,
                                rejected=len(result.rejected))  # fmt: skip
        written = write_partition(data, layout.NEW_CLEAN, day, result.clean)
        reasons = Counter(r.split(":")[0] for r in result.rejected.get("reason", []))
        summary.update(
            status="succeeded",
            records=result.records,
            kept=len(result.clean),
            labelled=int(result.clean["arr_delay"].notna().sum()),
            rejected=len(result.rejected),
            rejected_by_reason=dict(reasons),
            duplicates_dropped=result.duplicates,
            clean_key=layout.partition_key(layout.NEW_CLEAN, day),
            clean_bytes=written,
        )
    except Exception as exc:  # every run summary says how the run ended, whatever ended it
        summary.update(status="failed", error=str(exc), error_type=type(exc).__name__, records=len(records))
        raise
    finally:
        summary.update(
            pages=client.pages,
            listed=client.listed,  # above records when the provider's pages left records out
            requests=budget.used,
            retries=client.retries,
            raw_prefix=raw_prefix,
            seconds=round(time.perf_counter() - started, 2),
        )
        data.put(layout.fetch_run(run_id), json.dumps(summary, indent=2).encode(), if_absent=True)
        # One line per run: the "no successful fetch in 26 h" alarm counts these (metric filter).
        log.info(
            "fetch run",
            extra={
                "status": summary.get("status"),
                "date": summary["date"],
                "kept": summary.get("kept"),
                "run_id": run_id,
            },
        )
        if own_http:
            http.close()
    return summary
