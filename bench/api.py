"""API throughput and latency, all in one run, with wrk in a separate process on loopback.

Servers with one uvicorn worker each, started one after another: the ceiling (same stack,
constant answer); the naive implementation (DataFrame per request + pickled random forest's
predict_proba) with the forest's n_jobs as trained (-1) and with n_jobs=1 (scikit-learn's default);
the project's API serving the same random forest with its answer log on (the default: every answer
goes to DATA predictions/) and off; and the project's API serving the other candidates training
chooses from: logistic regression, gradient boosting and their log-odds blend (the winner on all of
Jan–Nov). Then
p50/p99 of the project's API at about half the ceiling's rate (wrk's Lua `delay` paces each
connection), the latency of one 10,000-flight batch, each server's peak memory (VmHWM of its
process), and the conditions lookup's cost by the number of airports.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

import httpx
import joblib
import numpy as np

from flightdelay import answers, conditions, datasets, layout, schema
from flightdelay.features import feature_schema
from flightdelay.registry import DataWindow, ModelMetadata, Registry, dumps
from flightdelay.storage import LocalStore
from training.models import CANDIDATES

FLIGHT = (
    '{"carrier":"B6","flight_number":"1816","origin":"JFK","dest":"SYR",'
    '"scheduled_departure":"2013-12-02T22:50:00","scheduled_arrival":"2013-12-02T23:56:00"}'
)
DURATION, CONNECTIONS = "8s", 32
JSON = {"content-type": "application/json"}
LOG_OFF = {"FLIGHTDELAY_API_LOG_ANSWERS": "false"}
LUA = "wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.body = '{body}'\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if (
                httpx.post(
                    f"{url}/predict", content=FLIGHT, headers={"content-type": "application/json"}
                ).status_code
                == 200
            ):
                return process, url
        except httpx.TransportError:
            pass  # not listening yet: try again
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def peak_memory_mb(process: subprocess.Popen[bytes]) -> float:
    """The process's peak resident memory so far (Linux: VmHWM in /proc)."""
    status = Path(f"/proc/{process.pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    assert match, status
    return int(match.group(1)) / 1024


def wrk(url: str, script: Path, connections: int = CONNECTIONS, duration: str = DURATION) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}", "--latency", "-s", str(script), f"{url}/predict"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate_line = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rate_line, out
    rate = float(rate_line.group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


PACED_CONNECTIONS = 16


def lookup_microseconds(airports: int, flights: int = 32) -> float:
    """One batch's conditions lookup (conditions.known_from) in a snapshot of that many airports."""
    codes = [f"{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}" for i in range(airports)]
    state = conditions.Snapshot(
        as_of=datetime(2013, 12, 2, 12, tzinfo=UTC),
        airports={c: dict.fromkeys(conditions.SNAPSHOT_FEATURES, 1.0) for c in codes},
    )
    origins = [codes[i % airports] for i in range(flights)]
    departures = np.full(flights, np.datetime64("2013-12-02T14:00", "m"))
    conditions.known_from(state, origins, departures)  # the table is built at reload, not timed
    return timeit.timeit(lambda: conditions.known_from(state, origins, departures), number=500) / 500 * 1e6


def batch_latencies_ms(url: str, flights: int = 10_000, times: int = 5) -> list[float]:
    """Latency of one batch, as a client with its connection open sees it: ``httpx.post`` would
    also time building a client (~25 ms here, loading certificates), which is not the server's."""
    batch = '{"flights":[' + ",".join([FLIGHT] * flights) + "]}"
    timings = []
    with httpx.Client(timeout=60, headers=JSON) as client:
        client.get(f"{url}/health")  # the connection, opened before timing
        for _ in range(times):
            t0 = time.perf_counter()
            response = client.post(f"{url}/predict", content=batch)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200 and len(response.json()["predictions"]) == flights
    return timings


def paced(url: str, single: Path, rate: float, script: Path) -> dict[str, float]:
    """Latency at about ``rate`` requests/s. wrk's Lua ``delay`` waits before each connection's
    next request, so the rate also depends on the latency, which depends on the rate: short runs
    correct the pause by what each one missed (pause + latency = each connection's share of the
    rate; no pause if the server cannot reach it), then the measured run."""

    def run(pause_ms: float, duration: str) -> dict[str, float]:
        script.write_text(single.read_text() + f"function delay() return {pause_ms:.2f} end\n")
        return wrk(url, script, connections=PACED_CONNECTIONS, duration=duration)

    cycle_ms = PACED_CONNECTIONS * 1000 / rate  # each connection's time per request at that rate
    pause_ms = cycle_ms
    for _ in range(4):
        probe = run(pause_ms, "3s")
        if abs(probe["rps"] - rate) < 0.02 * rate:
            break
        pause_ms = max(0.0, pause_ms - (PACED_CONNECTIONS * 1000 / probe["rps"] - cycle_ms))
    return run(pause_ms, DURATION)


APP = "services.api.app:create_app"


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it from Debian's packages)")
    flights = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END))
    fitted = {name: make(42).fit(flights, schema.target(flights)) for name, make in CANDIDATES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        joblib.dump(fitted["random_forest"], root / "rf.joblib")
        for name, model in fitted.items():
            registry = Registry(LocalStore(root / name))
            meta = ModelMetadata(
                model_type=name,
                feature_schema=feature_schema(),
                threshold=0.3,
                training_data=DataWindow(
                    start=flights["flight_date"].min().date(),
                    end=datasets.TRAINING_END,
                    rows=len(flights),
                    base_rate=0.24,
                ),
            )
            registry.promote(registry.stage(dumps(model), meta).version, reason="bench")
        single = root / "single.lua"
        single.write_text(LUA.format(body=FLIGHT))
        results: dict[str, dict[str, float]] = {}
        memory: dict[str, float] = {}
        env = {
            "BENCH_MODEL_PATH": str(root / "rf.joblib"),
            "FLIGHTDELAY_MODELS_URL": str(root / "random_forest"),
            "FLIGHTDELAY_DATA_URL": str(root / "data"),
        }
        serving = {name: {"FLIGHTDELAY_MODELS_URL": str(root / name), **LOG_OFF} for name in fitted}
        for name, target, extra in (
            ("ceiling", "bench.api_apps:ceiling", {}),
            ("naive, n_jobs as trained (-1)", "bench.api_apps:naive", {}),
            ("naive, n_jobs=1 (scikit-learn's default)", "bench.api_apps:naive", {"BENCH_N_JOBS": "1"}),
            ("project", APP, {}),
            # The answer log's cost, off and on in turn twice (best of two each: this machine is noisy).
            ("project, answer log off", APP, LOG_OFF),
            ("project, again", APP, {}),
            ("project, answer log off, again", APP, LOG_OFF),
            ("project serving logistic regression, log off", APP, serving["logistic_regression"]),
            ("project serving gradient boosting, log off", APP, serving["hist_gradient_boosting"]),
            ("project serving their blend (the winner), log off", APP, serving["linear_and_boosting"]),
        ):
            process, url = serve(target, {**env, **extra})
            try:
                results[name] = wrk(url, single)
                if name == "project":
                    results["project at half the ceiling's rate"] = paced(
                        url, single, results["ceiling"]["rps"] / 2, root / "paced.lua"
                    )
                    timings = batch_latencies_ms(url)
                memory[name] = peak_memory_mb(process)
            finally:
                process.terminate()
                process.wait(timeout=30)
        # What the log-on server wrote (its last flush ran on shutdown).
        logged = LocalStore(root / "data")
        parts = len(logged.list(layout.PREDICTIONS + "/"))
        answers_logged = sum(len(answers.read(logged, day)) for day in answers.answered_days(logged))
    print(
        f"| server (1 worker, wrk -t1 -c{CONNECTIONS} -d{DURATION}) | requests/s | p50 ms | p99 ms | non-2xx "
        "| peak memory MB |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        mb = f"{memory[name]:,.0f}" if name in memory else "(as above)"
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {int(r['errors'])} | {mb} |")
    ceiling, ours = results["ceiling"]["rps"], results["project"]["rps"]
    naive = max(
        results["naive, n_jobs as trained (-1)"]["rps"],
        results["naive, n_jobs=1 (scikit-learn's default)"]["rps"],
    )
    log_on = max(results["project"]["rps"], results["project, again"]["rps"])
    log_off = max(results["project, answer log off"]["rps"], results["project, answer log off, again"]["rps"])
    print(
        f"project / ceiling = {ours / ceiling:.2f} (target >= 0.60); project / the better naive = {ours / naive:.1f}x (target >= 5x)"
    )
    print(
        f"answer log on / off = {log_on / log_off:.2f}, best of two runs each (target >= 0.90); "
        f"{answers_logged:,} answers logged in {parts} Parquet parts"
    )
    at_half = results["project at half the ceiling's rate"]
    print(
        f"at {at_half['rps']:,.0f} requests/s (half the ceiling is {ceiling / 2:,.0f}): p99 {at_half['p99']:.2f} ms (target < 15 ms)"
    )
    print(f"10,000-flight batch: median {statistics.median(timings):.0f} ms over 5 (target < 100 ms)")
    print(
        "conditions lookup for a batch of 32 flights, in-process: "
        f"{lookup_microseconds(3):.0f} µs with 3 airports, {lookup_microseconds(300):.0f} µs with 300"
    )


if __name__ == "__main__":
    main()
