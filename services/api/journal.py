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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from flightdelay import answers
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
        """Every pending model call's answers as one table (one pass: the thread holds the GIL the
        event loop needs as little as it can), then one Parquet part per departure day."""
        counts = [len(e.probabilities) for e in entries]

        def each(values: list[Any], dtype: str | None = None) -> np.ndarray:
            return np.repeat(np.array(values, dtype=dtype), counts)

        frame = answers.table(
            {name: np.concatenate([e.flights[name] for e in entries]) for name in entries[0].flights},
            np.concatenate([e.probabilities for e in entries]),
            Known(
                {
                    name: np.concatenate([e.known.values[name] for e in entries])
                    for name in entries[0].known.values
                }
            ),
            model_version=each([e.model_version for e in entries], "object"),
            threshold=each([e.threshold for e in entries], "float64"),
            asked=each([_naive(e.asked) for e in entries], "datetime64[us]"),
            conditions_as_of=each([_naive(e.conditions_as_of) for e in entries], "datetime64[us]"),
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
