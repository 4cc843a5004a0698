"""API throughput and latency, all in one run, with wrk in a separate process on loopback.

Four servers, one uvicorn worker each, started one after another: the ceiling (same stack,
constant answer), the naive implementation (DataFrame per request + pickled random forest), the
project's API serving the same random forest with its answer log on (the default: every answer
goes to DATA predictions/), and the same with the log off. Then p50/p99 of the project's API at
about half the ceiling's rate (wrk's Lua `delay` paces each connection), and the latency of one
10,000-flight batch.
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
from pathlib import Path

import httpx
import joblib

from flightdelay import answers, datasets, layout, schema
from flightdelay.features import feature_schema
from flightdelay.registry import DataWindow, ModelMetadata, Registry, dumps
from flightdelay.storage import LocalStore
from training.models import random_forest

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


def wrk(url: str, script: Path, connections: int = CONNECTIONS) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(script), f"{url}/predict"],
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


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it from Debian's packages)")
    flights = schema.labelled(datasets.load_flights(end=datasets.TRAINING_END))
    model = random_forest(42).fit(flights, schema.target(flights))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        joblib.dump(model, root / "rf.joblib")
        registry = Registry(LocalStore(root / "models"))
        meta = ModelMetadata(
            model_type="random_forest",
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
        single.write_text(
            f"wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.body = '{FLIGHT}'\n"
        )
        results = {}
        env = {
            "BENCH_MODEL_PATH": str(root / "rf.joblib"),
            "FLIGHTDELAY_MODELS_URL": str(root / "models"),
            "FLIGHTDELAY_DATA_URL": str(root / "data"),
        }
        for name, target, extra in (
            ("ceiling", "bench.api_apps:ceiling", {}),
            ("naive", "bench.api_apps:naive", {}),
            ("project", "services.api.app:create_app", {}),
            # The answer log's cost, off and on in turn twice (best of two each: this machine is noisy).
            ("project, answer log off", "services.api.app:create_app", LOG_OFF),
            ("project, again", "services.api.app:create_app", {}),
            ("project, answer log off, again", "services.api.app:create_app", LOG_OFF),
        ):
            process, url = serve(target, {**env, **extra})
            try:
                results[name] = wrk(url, single)
                if name == "project":
                    half = results["ceiling"]["rps"] / 2
                    paced_script = root / "paced.lua"
                    per_connection_ms = 16 * 1000 / half
                    paced_script.write_text(
                        single.read_text() + f"function delay() return {per_connection_ms:.2f} end\n"
                    )
                    results["project at half the ceiling's rate"] = wrk(url, paced_script, connections=16)
                    batch = '{"flights":[' + ",".join([FLIGHT] * 10_000) + "]}"
                    timings = []
                    for _ in range(5):
                        t0 = time.perf_counter()
                        response = httpx.post(
                            f"{url}/predict",
                            content=batch,
                            headers={"content-type": "application/json"},
                            timeout=60,
                        )
                        timings.append((time.perf_counter() - t0) * 1000)
                        assert response.status_code == 200 and len(response.json()["predictions"]) == 10_000
            finally:
                process.terminate()
                process.wait(timeout=30)
        # What the log-on server wrote (its last flush ran on shutdown).
        logged = LocalStore(root / "data")
        parts = len(logged.list(layout.PREDICTIONS + "/"))
        answers_logged = sum(len(answers.read(logged, day)) for day in answers.answered_days(logged))
    print(
        f"| server (1 worker, wrk -t1 -c{CONNECTIONS} -d{DURATION}) | requests/s | p50 ms | p99 ms | non-2xx |"
    )
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {int(r['errors'])} |")
    ceiling, naive, ours = results["ceiling"]["rps"], results["naive"]["rps"], results["project"]["rps"]
    log_on = max(results["project"]["rps"], results["project, again"]["rps"])
    log_off = max(results["project, answer log off"]["rps"], results["project, answer log off, again"]["rps"])
    print(
        f"project / ceiling = {ours / ceiling:.2f} (target >= 0.60); project / naive = {ours / naive:.1f}x (target >= 5x)"
    )
    print(
        f"answer log on / off = {log_on / log_off:.2f}, best of two runs each (target >= 0.90); "
        f"{answers_logged:,} answers logged in {parts} Parquet parts"
    )
    paced = results["project at half the ceiling's rate"]
    print(
        f"at {paced['rps']:,.0f} requests/s (half the ceiling is {ceiling / 2:,.0f}): p99 {paced['p99']:.2f} ms (target < 15 ms)"
    )
    print(f"10,000-flight batch: median {statistics.median(timings):.0f} ms over 5 (target < 100 ms)")


if __name__ == "__main__":
    main()
