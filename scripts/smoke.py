#!/usr/bin/env python3
"""Smoke test of a deployed (or local) API: /health, /ready, and a real /predict.

    python scripts/smoke.py https://api.example.com [--timeout 120]

Standard library only, so it runs on any CI runner. Exit 0 when every check passes; 1 with one
line per failed check otherwise. /ready is retried until the timeout: a fresh task may still be
loading its model. A first deployment, before any model was promoted, passes on /health alone (the
API says so in /model: no version and no reload attempted); a model that is promoted but cannot be
loaded fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

FLIGHT = {  # a real flight: JetBlue 1816, JFK to Syracuse, 2 December 2013
    "carrier": "B6",
    "flight_number": "1816",
    "origin": "JFK",
    "dest": "SYR",
    "scheduled_departure": "2013-12-02T22:50:00",
    "scheduled_arrival": "2013-12-02T23:56:00",
}


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def smoke(base: str, timeout: float) -> list[str]:
    """The failed checks (empty when the API is healthy and predicts)."""
    base = base.rstrip("/")
    failures = []
    try:
        status, _ = call(f"{base}/health")
    except (urllib.error.URLError, OSError) as exc:
        return [f"/health: cannot connect ({exc})"]
    if status != 200:
        failures.append(f"/health answered {status}")
    deadline = time.monotonic() + timeout
    while True:
        status, ready = call(f"{base}/ready")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(2)
    if status != 200:
        _, model = call(f"{base}/model")
        if isinstance(model, dict) and model.get("version") is None and model.get("last_reload") is None:
            print("note: no model has been promoted yet; /predict is checked after the first promotion")
            return failures
        return [*failures, f"/ready answered {status} after {timeout:.0f} s: {ready}; /model: {model}"]
    status, prediction = call(f"{base}/predict", FLIGHT)
    if status != 200:
        return [*failures, f"/predict answered {status}: {prediction}"]
    if not 0.0 <= prediction.get("probability", -1) <= 1.0:
        failures.append(f"/predict gave no probability in [0, 1]: {prediction}")
    if prediction.get("model_version") != ready.get("model_version"):
        failures.append(
            f"/predict used {prediction.get('model_version')}, /ready says {ready.get('model_version')}"
        )
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="base URL of the API, e.g. http://my-alb.example.com")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for /ready")
    args = parser.parse_args()
    failures = smoke(args.url, args.timeout)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"OK {args.url}: /health, /ready and /predict (or nothing promoted yet)")


if __name__ == "__main__":
    main()
