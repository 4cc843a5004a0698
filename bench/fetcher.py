"""Fetcher throughput: normalization of every December record, and one full day fetched end to end."""

from __future__ import annotations

import tempfile
import time
from datetime import date

from flightdelay.config import get_settings
from flightdelay.normalize import normalize
from flightdelay.storage import LocalStore
from offline.aviationstack import ReplayServer, records_for
from services.fetcher.fetch import run_fetch


def main() -> None:
    records = [r for d in range(1, 32) for r in records_for(date(2013, 12, d))]
    normalize(records[:100])  # load the airport table once, as every run does before its first page
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = normalize(records)
        timings.append(time.perf_counter() - t0)
    seconds = sorted(timings)[1]  # the median of three runs
    rate = len(records) / seconds
    print(
        f"normalize: {len(records):,} December records (codeshares included) → {len(result.clean):,} flights "
        f"in {seconds:.2f} s = {rate:,.0f} records/s (target >= 50,000)"
    )
    with ReplayServer(key="bench-key") as server, tempfile.TemporaryDirectory() as tmp:
        settings = get_settings(aviationstack_url=server.url, aviationstack_key="bench-key")
        records_for(date(2013, 12, 9))  # build the replay's day first: serving, not preparing, is measured
        t0 = time.perf_counter()
        summary = run_fetch(settings, LocalStore(tmp), date(2013, 12, 9))
        seconds = time.perf_counter() - t0
    print(
        f"fetch one day end to end (replay on loopback, 3 airports): {summary['kept']:,} flights, "
        f"{summary['requests']} requests, {seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
