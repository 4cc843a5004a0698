"""Opportunistic micro-batching: concurrent /predict calls share one model call.

A scikit-learn predict costs milliseconds whatever the batch size, so under load the requests
waiting while the model runs are predicted together next time. With no load a request is predicted
alone at once: batching adds no waiting, it only absorbs bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from flightdelay.conditions import Aircraft, Known, Snapshot
from flightdelay.errors import ModelCannotScore, NoLiveModel
from flightdelay.serving import Flights
from services.api.live import Loaded


@dataclass(frozen=True)
class Answer:
    """A job's probabilities, the conditions each flight was known with, and the model."""

    probabilities: np.ndarray
    known: Known
    loaded: Loaded
    known_at: datetime | None  # the snapshot's time
    aircraft: Aircraft | None = None  # each flight's aircraft and its previous flight, as known then


# A model call on this many flights or fewer runs on the event loop. In a thread it held the GIL the
# loop needed anyway, and only the few requests that queued meanwhile made the next call (~3 flights
# under load): on the loop, every request that arrives during a call is predicted in the next one
# (4,400 requests/s against 3,600 in a thread, bench/api.py). Larger batches go to a thread, so the
# loop keeps serving while a 10,000-flight batch is predicted.
INLINE_ROWS = 64

Job = tuple[Flights, "asyncio.Future[Answer]"]
# Told of every model call's flights and answer (the answer log), on the event loop.
Observer = Callable[[Flights, Answer], None]


class Batcher:
    def __init__(
        self,
        model: Callable[[], Loaded | None],
        state: Callable[[], Snapshot | None],
        *,
        max_rows: int,
        observer: Observer | None = None,
        on_unscorable: Callable[[Loaded, int], None] | None = None,
    ) -> None:
        self._observer = observer
        self._on_unscorable = on_unscorable or (lambda loaded, flights: None)
        self._model = model
        self._state = state
        self._max_rows = max_rows
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="predict-batcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def predict(self, flights: Flights) -> Answer:
        """Probabilities for these flights, the conditions used, and the model that produced them."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        await self._queue.put((flights, future))
        return await future

    async def _run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            rows = len(jobs[0][0])
            while rows < self._max_rows and not self._queue.empty():
                job = self._queue.get_nowait()
                jobs.append(job)
                rows += len(job[0])
            # One model and one snapshot for the whole batch, even if a swap happens meanwhile.
            loaded, state = self._model(), self._state()
            try:
                if loaded is None:
                    raise NoLiveModel
                flights = Flights.concat([job_flights for job_flights, _ in jobs])
                if rows <= INLINE_ROWS:
                    probabilities, known, aircraft = loaded.predict(flights, state)
                else:
                    probabilities, known, aircraft = await asyncio.to_thread(loaded.predict, flights, state)
            except Exception as exc:
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(exc)
                continue
            known_at = state.as_of if state else None
            if not np.isfinite(probabilities).all():  # never served as a probability (null)
                self._unscorable(jobs, probabilities, known, aircraft, loaded, known_at)
                continue
            if self._observer is not None:
                self._observer(flights, Answer(probabilities, known, loaded, known_at, aircraft))
            start = 0
            for job_flights, future in jobs:
                if not future.done():
                    part = slice(start, start + len(job_flights))
                    answer = Answer(probabilities[part], _part(known, part), loaded, known_at, aircraft[part])
                    future.set_result(answer)
                start += len(job_flights)

    def _unscorable(
        self,
        jobs: list[Job],
        probabilities: np.ndarray,
        known: Known,
        aircraft: Aircraft,
        loaded: Loaded,
        known_at: datetime | None,
    ) -> None:
        """A model call with NaN among its answers: each request holding one fails (ModelCannotScore),
        the others are answered and logged; the live model is reported unable to score."""
        start, bad, answered = 0, 0, []
        for job_flights, future in jobs:
            part = slice(start, start + len(job_flights))
            start += len(job_flights)
            nans = int((~np.isfinite(probabilities[part])).sum())
            bad += nans
            if future.done():
                continue
            if nans:
                future.set_exception(ModelCannotScore(loaded.version, flights=nans))
                continue
            answer = Answer(probabilities[part], _part(known, part), loaded, known_at, aircraft[part])
            future.set_result(answer)
            answered.append((job_flights, answer))
        self._on_unscorable(loaded, bad)
        if self._observer is not None:
            for job_flights, answer in answered:
                self._observer(job_flights, answer)


def _part(known: Known, rows: slice) -> Known:
    return Known({k: v[rows] for k, v in known.values.items()})
