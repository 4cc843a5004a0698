"""The answer log: every answer goes to DATA ``predictions/`` (flightdelay/answers.py), off the
request path.

A model call adds one entry (its flights and arrays, no per-flight work) to a bounded buffer; a
background task turns the buffer into Parquet parts every ``flush_seconds`` in a thread, and the
last flush happens on shutdown. The store failing never fails a prediction: the rows wait for the
next flush while there is room, and rows that find the buffer full are dropped and counted
(``flightdelay_answers_lost``), so memory stays bounded whatever happens to the store.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from flightdelay import answers
from flightdelay.conditions import Known
from flightdelay.serving import ScheduledFlight
from flightdelay.storage import ObjectStore
from services.api.metrics import ApiMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    flights: list[ScheduledFlight]
    probabilities: np.ndarray
    known: Known
    model_version: str
    threshold: float
    asked: datetime
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
        flights: list[ScheduledFlight],
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
                flights,
                probabilities,
                known,
                model_version,
                threshold,
                datetime.now(UTC),
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
        frame = pd.concat(
            [
                answers.table(
                    e.flights,
                    e.probabilities,
                    e.known,
                    model_version=e.model_version,
                    threshold=e.threshold,
                    asked=e.asked,
                    conditions_as_of=e.conditions_as_of,
                )
                for e in entries
            ],
            ignore_index=True,
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
