"""The answer log: every answer goes to DATA ``predictions/`` (flightdelay/answers.py), off the
request path.

A model call adds one entry (its flights and answers as arrays) to a bounded buffer; a
background task turns the buffer into Parquet parts every ``flush_seconds`` in a thread, and the
last flush happens on shutdown. The store failing never fails a prediction: the rows wait for the
next flush while there is room, and rows that find the buffer full are dropped and counted
(``flightdelay_answers_lost``), so memory stays bounded whatever happens to the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from flightdelay import answers, conditions
from flightdelay.conditions import Known
from flightdelay.serving import Flights
from flightdelay.storage import ObjectStore
from services.api.metrics import ApiMetrics

log = logging.getLogger(__name__)


def _naive(moment: datetime | None) -> np.datetime64:
    """UTC as numpy holds it (naive); None is NaT."""
    if moment is None:
        return np.datetime64("NaT", "us")
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "us")


@dataclass(frozen=True)
class _Entry:
    flights: dict[str, np.ndarray]  # answers.asked: arrays only, nothing for the collector to walk
    probabilities: np.ndarray
    known: np.ndarray  # the conditions' values, a column per conditions.FEATURES: one array to join
    model_version: str
    threshold: float
    asked_us: int  # microseconds since the epoch, UTC: the flush converts them all in one call
    conditions_as_of: datetime | None


class AnswerLog:
    def __init__(
        self, store: ObjectStore, metrics: ApiMetrics, *, max_rows: int, flush_seconds: float
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._max_rows = max_rows
        self._flush_seconds = flush_seconds
        self._pending: list[_Entry] = []
        self._rows = 0
        self._lock = asyncio.Lock()  # one flush at a time

    @property
    def pending_rows(self) -> int:
        return self._rows

    def record(
        self,
        flights: Flights,
        probabilities: np.ndarray,
        known: Known,
        *,
        model_version: str,
        threshold: float,
        conditions_as_of: datetime | None,
    ) -> None:
        """Keep one model call's answers for the next flush (called on the event loop)."""
        if self._rows + len(flights) > self._max_rows:
            self._metrics.answers_lost.labels(reason="buffer_full").inc(len(flights))
            return
        self._pending.append(
            _Entry(
                answers.asked(flights),
                probabilities,
                np.column_stack([known.values[name] for name in conditions.FEATURES]),
                model_version,
                threshold,
                time.time_ns() // 1000,
                conditions_as_of,
            )
        )
        self._rows += len(flights)

    async def flush(self) -> int:
        """Write what is pending; returns the rows written (0 if the store failed: they wait)."""
        async with self._lock:
            entries, rows = self._pending, self._rows
            if not entries:
                return 0
            self._pending, self._rows = [], 0
            try:
                await asyncio.to_thread(self._write, entries)
            except Exception as exc:  # the store is down or refuses: keep what fits, count the rest
                room = self._max_rows - self._rows
                kept = [] if rows > room else entries
                self._pending[:0], self._rows = kept, self._rows + (rows if kept else 0)
                if not kept:
                    self._metrics.answers_lost.labels(reason="store_failed").inc(rows)
                log.warning(
                    "answer log: could not write %d answers (%s); %s",
                    rows,
                    exc.__class__.__name__,
                    "retrying on the next flush" if kept else "dropped",
                )
                return 0
            self._metrics.answers_logged.inc(rows)
            return rows

    def _write(self, entries: list[_Entry]) -> None:
        """Every pending model call's answers as one table (one pass: the thread holds the GIL the
        event loop needs as little as it can), then one Parquet part per departure day."""
        counts = [len(e.probabilities) for e in entries]

        def each(values: list[Any], dtype: str | None = None) -> np.ndarray:
            return np.repeat(np.array(values, dtype=dtype), counts)

        # Few snapshots among many model calls: each converted once (per call: 34 ms of 10,000 calls).
        as_of = {moment: _naive(moment) for moment in {e.conditions_as_of for e in entries}}

        frame = answers.table(
            {name: np.concatenate([e.flights[name] for e in entries]) for name in entries[0].flights},
            np.concatenate([e.probabilities for e in entries]),
            Known(dict(zip(conditions.FEATURES, np.concatenate([e.known for e in entries]).T, strict=True))),
            model_version=each([e.model_version for e in entries], "object"),
            threshold=each([e.threshold for e in entries], "float64"),
            asked=each([e.asked_us for e in entries], "int64").view("datetime64[us]"),
            conditions_as_of=each([as_of[e.conditions_as_of] for e in entries], "datetime64[us]"),
        )
        answers.write(self._store, frame)

    async def run(self) -> None:
        """Flush every ``flush_seconds`` until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(self._flush_seconds)
                await self.flush()
        finally:
            await self.flush()
