"""The answer log: every answer goes to DATA ``predictions/`` (flightdelay/answers.py), off the
request path.

A model call adds one entry (its flights and answers as arrays) to a bounded buffer; a
background task turns the buffer into Parquet parts every ``flush_seconds`` in a thread, and the
last flush happens on shutdown. The store failing never fails a prediction: the rows wait for the
next flush while there is room, and rows that find the buffer full are dropped and counted
(``flightdelay_answers_lost``), so memory stays bounded whatever happens to the store.

The last flush (``close``, on SIGTERM) has no next flush to wait for: it is retried a few times,
then what still could not be written is spilled to a local Parquet file (``spill_dir``), counted
(``flightdelay_answers_spilled``) and logged with its number and path; the next process on the same
DATA store writes spilled files first. Only if the spill fails too are the answers counted lost
(reason ``shutdown``), with a log line saying how many.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
        self,
        store: ObjectStore,
        metrics: ApiMetrics,
        *,
        max_rows: int,
        flush_seconds: float,
        spill_dir: Path | None = None,
        final_attempts: int = 3,
        retry_seconds: float = 0.5,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._max_rows = max_rows
        self._flush_seconds = flush_seconds
        self._spill_dir = spill_dir
        self._final_attempts = final_attempts
        self._retry_seconds = retry_seconds
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
        answers.write(self._store, self._table(entries))

    def _table(self, entries: list[_Entry]) -> pd.DataFrame:
        """Every pending model call's answers as one table (one pass: the thread holds the GIL the
        event loop needs as little as it can), for one Parquet part per departure day."""
        counts = [len(e.probabilities) for e in entries]

        def each(values: list[Any], dtype: str | None = None) -> np.ndarray:
            return np.repeat(np.array(values, dtype=dtype), counts)

        # Few snapshots among many model calls: each converted once (per call: 34 ms of 10,000 calls).
        as_of = {moment: _naive(moment) for moment in {e.conditions_as_of for e in entries}}

        return answers.table(
            {name: np.concatenate([e.flights[name] for e in entries]) for name in entries[0].flights},
            np.concatenate([e.probabilities for e in entries]),
            Known(dict(zip(conditions.FEATURES, np.concatenate([e.known for e in entries]).T, strict=True))),
            model_version=each([e.model_version for e in entries], "object"),
            threshold=each([e.threshold for e in entries], "float64"),
            asked=each([e.asked_us for e in entries], "int64").view("datetime64[us]"),
            conditions_as_of=each([as_of[e.conditions_as_of] for e in entries], "datetime64[us]"),
        )

    async def run(self) -> None:
        """Write what an earlier process spilled, then flush every ``flush_seconds`` until
        cancelled, then once more (``close``)."""
        await asyncio.to_thread(self._recover)
        try:
            while True:
                await asyncio.sleep(self._flush_seconds)
                await self.flush()
        finally:
            await self.close()

    async def close(self) -> None:
        """The last flush: retried, then spilled to a local file; never dropped uncounted."""
        async with self._lock:
            entries, rows = self._pending, self._rows
            self._pending, self._rows = [], 0
            if not entries:
                return
            frame, part = await asyncio.to_thread(self._table, entries), answers.new_part_id()
            for attempt in range(1, self._final_attempts + 1):
                try:
                    await asyncio.to_thread(answers.write, self._store, frame, part_id=part)
                except Exception as exc:  # the store is down or refuses: try again, then spill
                    log.warning(
                        "answer log: the last flush of %d answers failed (attempt %d of %d: %s)",
                        rows,
                        attempt,
                        self._final_attempts,
                        exc.__class__.__name__,
                    )
                    if attempt < self._final_attempts:
                        await asyncio.sleep(self._retry_seconds * 2 ** (attempt - 1))
                    continue
                self._metrics.answers_logged.inc(rows)
                return
            where = await asyncio.to_thread(self._spill, frame, part)
            if where is not None:
                self._metrics.answers_spilled.inc(rows)
                log.error("answer log: %d answers kept in %s, written by the next start", rows, where)
            else:
                self._metrics.answers_lost.labels(reason="shutdown").inc(rows)
                log.error(
                    "answer log: %d answers lost at shutdown (the store and %s failed)", rows, self._spill_dir
                )

    def _spill(self, frame: pd.DataFrame, part: str) -> Path | None:
        if self._spill_dir is None:
            return None
        path = self._spill_dir / f"{part}.parquet"
        try:
            self._spill_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            frame.to_parquet(partial, index=False)
            partial.rename(path)  # whole or not at all: the next start reads only *.parquet
        except OSError:
            return None
        return path

    def _recover(self) -> None:
        """Write the answers an earlier process spilled (same part ids: a retry rewrites, never
        copies); a file that cannot be written yet stays for the next start."""
        if self._spill_dir is None or not self._spill_dir.is_dir():
            return
        for path in sorted(self._spill_dir.glob("*.parquet")):
            try:
                frame = pd.read_parquet(path)
                answers.write(self._store, frame, part_id=path.stem)
            except Exception as exc:  # the store is still down: the file waits
                log.warning("answer log: spilled %s not written yet (%s)", path.name, exc.__class__.__name__)
                return
            path.unlink()
            self._metrics.answers_logged.inc(len(frame))
            log.info("answer log: %d spilled answers written from %s", len(frame), path.name)
