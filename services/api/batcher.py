"""Opportunistic micro-batching: concurrent /predict calls share one model call.

A scikit-learn predict costs milliseconds whatever the batch size, so under load the requests
waiting while the model runs are predicted together next time. With no load a request is predicted
alone at once: batching adds no waiting, it only absorbs bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np

from flightdelay.errors import NoLiveModel
from flightdelay.serving import ScheduledFlight
from services.api.live import Loaded

Job = tuple[list[ScheduledFlight], "asyncio.Future[tuple[np.ndarray, Loaded]]"]


class Batcher:
    def __init__(self, model: Callable[[], Loaded | None], *, max_rows: int) -> None:
        self._model = model
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

    async def predict(self, flights: list[ScheduledFlight]) -> tuple[np.ndarray, Loaded]:
        """Probabilities for these flights and the model that produced them."""
        future: asyncio.Future[tuple[np.ndarray, Loaded]] = asyncio.get_running_loop().create_future()
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
            loaded = self._model()  # one model for the whole batch, even if a swap happens meanwhile
            try:
                if loaded is None:
                    raise NoLiveModel
                flights = [f for job_flights, _ in jobs for f in job_flights]
                probabilities = await asyncio.to_thread(loaded.predict, flights)
            except Exception as exc:
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for job_flights, future in jobs:
                if not future.done():
                    future.set_result((probabilities[start : start + len(job_flights)], loaded))
                start += len(job_flights)
