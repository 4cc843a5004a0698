"""The DATA bucket's keys: the only module that knows them (the MODELS keys live in registry.py).

    training/date=YYYY-MM-DD/flights.parquet       historical flights (seeded), one object a day
    training/seed-summary.json                     what the last seed wrote
    training/rejected/run=R/<file>.jsonl           rows of an imported BTS file left out, with why
    new/raw/date=D/run=R/<airport>-<offset>.json   every fetched page as received, before parsing
    new/rejected/date=D/run=R.jsonl                fetched records that failed validation, with why
    new/clean/date=D/flights.parquet               a fetched day, normalized; replaced whole by a re-run
    new/runs/R.json                                one summary a fetch run, success or failure
    conditions/weather/date=D/observations.parquet weather observed at each airport that day (UTC)
    conditions/weather-import-summary.json         what the last IEM ASOS import wrote
    conditions/rejected/run=R/<file>.jsonl         rows of an imported IEM file left out, with why
    conditions/latest.json                         each airport's conditions as known at one time
    conditions/runs/R.json                         one summary a conditions run
    predictions/date=D/part-<asked>-<id>.parquet   the API's answers about flights leaving on day D

Daily partitions are Hive-style, so Athena and Glue read them as they lie.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime

TRAINING = "training"
NEW_CLEAN = "new/clean"
WEATHER = "conditions/weather"
PREDICTIONS = "predictions"
PARTITION_FILE = "flights.parquet"
OBSERVATIONS_FILE = "observations.parquet"
_PARTITION_DAY = re.compile(r"date=(\d{4}-\d{2}-\d{2})/([^/]+)$")


def partition_key(prefix: str, day: date, name: str = PARTITION_FILE) -> str:
    return f"{prefix.rstrip('/')}/date={day.isoformat()}/{name}"


def partition_day(key: str, name: str = PARTITION_FILE) -> date | None:
    """The day a partition key holds, or None for any other key."""
    match = _PARTITION_DAY.search(key)
    return date.fromisoformat(match.group(1)) if match and match.group(2) == name else None


def predictions_part(day: date, part_id: str) -> str:
    """One flush of the API's answer log: many parts a day, never rewritten (no write races)."""
    return f"{PREDICTIONS}/date={day.isoformat()}/part-{part_id}.parquet"


def predictions_prefix(day: date) -> str:
    return f"{PREDICTIONS}/date={day.isoformat()}/"


_ANSWERED_DAY = re.compile(rf"^{PREDICTIONS}/date=(\d{{4}}-\d{{2}}-\d{{2}})/part-[^/]+\.parquet$")


def predictions_day(key: str) -> date | None:
    """The departure day a part of the answer log is about, or None for any other key."""
    match = _ANSWERED_DAY.match(key)
    return date.fromisoformat(match.group(1)) if match else None


def latest_conditions() -> str:
    return "conditions/latest.json"


def conditions_run(run_id: str) -> str:
    return f"{CONDITIONS_RUNS}{run_id}.json"


CONDITIONS_RUNS = "conditions/runs/"
FETCH_RUNS = "new/runs/"
_RUN_STARTED = re.compile(r"(\d{8}T\d{6})(\d{6})?Z-")


def new_run_id(started: datetime) -> str:
    """A run's id (R above): when it started, to the microsecond, so that a listing sorts runs in
    the order they started even several a second (a backfill), then a random part that keeps two
    hosts' runs apart."""
    return f"{started.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(2)}"


def run_started(run_id: str) -> datetime | None:
    """When a run started, read from its id (ids written before microseconds stop at the second)."""
    match = _RUN_STARTED.match(run_id)
    if match is None:
        return None
    return datetime.strptime(match.group(1) + (match.group(2) or "000000"), "%Y%m%dT%H%M%S%f").replace(
        tzinfo=UTC
    )


def seed_summary() -> str:
    return f"{TRAINING}/seed-summary.json"


def import_rejected(run_id: str, source: str, *, weather: bool = False) -> str:
    """The rows of one imported file that were left out, with the reason (``source``: its file name)."""
    return f"{'conditions' if weather else TRAINING}/rejected/run={run_id}/{_safe_name(source)}.jsonl"


def weather_import_summary() -> str:
    return "conditions/weather-import-summary.json"


def _safe_name(name: str) -> str:
    """A file name as one key segment (no folders, no characters a key should not hold)."""
    return re.sub(r"[^A-Za-z0-9._()-]+", "_", name).strip("._") or "file"


def raw_prefix(day: date, run_id: str) -> str:
    return f"new/raw/date={day.isoformat()}/run={run_id}"


def raw_page(day: date, run_id: str, *, airport: str, offset: int, attempt: int) -> str:
    """A fetched page; a retried request keeps every attempt (``.attemptN``) beside the first."""
    suffix = "" if attempt == 1 else f".attempt{attempt}"
    return f"{raw_prefix(day, run_id)}/{airport}-{offset}{suffix}.json"


def rejected(day: date, run_id: str) -> str:
    return f"new/rejected/date={day.isoformat()}/run={run_id}.jsonl"


def fetch_run(run_id: str) -> str:
    return f"{FETCH_RUNS}{run_id}.json"
