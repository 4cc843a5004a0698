"""One conditions run: pull the recent METARs of the configured airports, keep them by day, and
write what each airport's conditions are now (``conditions/latest.json``) for the API.

With FLIGHTDELAY_CONDITIONS_DEPARTURES on, the run also reads each airport's departures as they
stand now (Aviation Stack's real-time list), so the snapshot knows how they are going; off, the
snapshot says ``departures: off`` and the model serves without them, as it was trained to
(conditions.DEPARTURES_HIDDEN_SHARE).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx
import pandas as pd

from flightdelay import conditions, layout
from flightdelay.airports import icao_codes
from flightdelay.aviationstack import AviationStackClient, Budget, Deadline
from flightdelay.config import Settings
from flightdelay.errors import ConfigError
from flightdelay.logs import register_secret
from flightdelay.normalize import normalize
from flightdelay.partitions import read_observations, write_observations
from flightdelay.storage import ObjectStore
from services.conditions.metar import MetarClient, to_observations

log = logging.getLogger(__name__)


def _keep(data: ObjectStore, observations: pd.DataFrame) -> int:
    """Merge the observations into their days' partitions (a re-run adds nothing twice)."""
    written = 0
    for day, rows in observations.groupby(observations["obs_utc"].dt.date):
        merged = pd.concat([read_observations(data, day, day), rows], ignore_index=True)
        merged = merged.drop_duplicates(["airport", "obs_utc"], keep="last")
        written += write_observations(data, day, merged)
    return written


def _departures(
    settings: Settings, http: httpx.Client, airports: list[str], summary: dict[str, Any]
) -> pd.DataFrame:
    """Every airport's departures as they stand now (real-time list), in the normalized table."""
    if settings.aviationstack_key is None:
        raise ConfigError(
            "FLIGHTDELAY_CONDITIONS_DEPARTURES needs FLIGHTDELAY_AVIATIONSTACK_KEY (or turn it off)"
        )
    register_secret(settings.aviationstack_key.get_secret_value())
    budget = Budget(limit=settings.fetch_max_requests)
    client = AviationStackClient(
        http,
        settings.aviationstack_url,
        settings.aviationstack_key,
        page_size=settings.fetch_page_size,
        max_attempts=settings.fetch_max_attempts,
        backoff_seconds=settings.fetch_backoff_seconds,
        budget=budget,
        page_deadline_seconds=settings.fetch_page_deadline_seconds,
        deadline=Deadline(seconds=settings.fetch_run_deadline_seconds),
        max_page_bytes=settings.fetch_max_page_bytes,
    )
    records = [record for airport in airports for record in client.flights(None, airport)]
    result = normalize(records)
    summary.update(departures=len(result.clean), departure_requests=budget.used)
    return result.clean


def run_conditions(
    settings: Settings, data: ObjectStore, *, at: datetime | None = None, http: httpx.Client | None = None
) -> dict[str, Any]:
    """Fetch, keep and publish the conditions as known at ``at`` (default: now, UTC)."""
    as_of = (at or datetime.now(UTC)).astimezone(UTC)
    # Named by when it ran, not by the time it is about: a replay's or a backfill's runs still
    # list in the order they ran, so /status shows the one that published conditions/latest.json.
    run_id = layout.new_run_id(datetime.now(UTC))
    started = time.perf_counter()
    airports = settings.fetch_airports
    by_icao = {icao: iata for iata, icao in icao_codes(airports).items()}
    summary: dict[str, Any] = {"stage": "conditions", "run_id": run_id, "as_of": as_of.isoformat()}
    own_http = http is None
    http = http or httpx.Client(
        timeout=settings.fetch_timeout_seconds, headers={"User-Agent": settings.http_user_agent}
    )
    client = MetarClient(
        http,
        settings.aviationweather_url,
        max_attempts=settings.fetch_max_attempts,
        backoff_seconds=settings.fetch_backoff_seconds,
    )
    try:
        records = client.observations(sorted(by_icao), settings.conditions_hours)
        observations, refused = to_observations(records, by_icao)
        # A clock in the past (a replay, a backfill) never keeps what came after it.
        observations = observations[observations["obs_utc"] <= pd.Timestamp(as_of)]
        written = _keep(data, observations)
        recent = read_observations(data, (as_of - timedelta(days=1)).date(), as_of.date())
        departures = (
            _departures(settings, http, airports, summary) if settings.conditions_departures else None
        )
        state = conditions.snapshot(
            recent,
            departures,
            airports,
            as_of,
            sources={
                "weather": urlparse(settings.aviationweather_url).netloc,
                "departures": urlparse(settings.aviationstack_url).netloc
                if departures is not None
                else "off",
            },
        )
        data.put(layout.latest_conditions(), state.model_dump_json(indent=2).encode())
        with_weather = sorted(a for a, v in state.airports.items() if v.get("temp_c") is not None)
        summary.update(
            status="succeeded",
            stations=sorted(by_icao),
            unknown_airports=sorted(set(airports) - set(by_icao.values())),
            records=len(records),
            observations=len(observations),
            refused=len(refused),
            refused_examples=refused[:5],
            bytes_written=written,
            airports_with_weather=with_weather,
            latest_key=layout.latest_conditions(),
        )
    except Exception as exc:  # every run summary says how the run ended, whatever ended it
        summary.update(status="failed", error=str(exc), error_type=type(exc).__name__)
        raise
    finally:
        summary.update(requests=client.requests, seconds=round(time.perf_counter() - started, 2))
        data.put(layout.conditions_run(run_id), json.dumps(summary, indent=2).encode(), if_absent=True)
        log.info("conditions run", extra={"status": summary.get("status"), "run_id": run_id})
        if own_http:
            http.close()
    return summary
