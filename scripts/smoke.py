#!/usr/bin/env python3
"""Smoke test of a deployed (or local) API: /health, /ready, and a real /predict.

    python scripts/smoke.py https://api.example.com [--timeout 120]

Standard library only (the repository's `apiclient`, no install), so it runs on any CI
runner. Exit 0 when every check passes; 1 with one
line per failed check otherwise. /ready is retried until the timeout: a fresh task may still be
loading its model. A first deployment, before any model was promoted, passes on /health alone (the
API says so in /model: no version and no reload attempted); a model that is promoted but cannot be
loaded fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a bare checkout: no install needed
from apiclient import ApiError, ApiUnreachable, Client, Flight

# A real flight: JetBlue 1816, JFK to Syracuse, 2 December 2013.
FLIGHT = Flight("B6", "JFK", "SYR", datetime(2013, 12, 2, 22, 50), datetime(2013, 12, 2, 23, 56), "1816")


def smoke(base: str, timeout: float) -> list[str]:
    """The failed checks (empty when the API is healthy and predicts)."""
    api = Client(base, timeout=10)
    failures = []
    try:
        api.health()
    except ApiUnreachable as exc:
        return [f"/health: {exc}"]
    except ApiError as exc:
        failures.append(f"/health answered {exc.status}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            ready = api.ready()
            break
        except ApiError as exc:
            if time.monotonic() > deadline:
                model = api.model()
                if model.get("version") is None and model.get("last_reload") is None:
                    print(
                        "note: no model has been promoted yet; /predict is checked after the first promotion"
                    )
                    return failures
                return [
                    *failures,
                    f"/ready answered {exc.status} after {timeout:.0f} s: {exc.detail}; /model: {model}",
                ]
            time.sleep(2)
    try:
        prediction = api.predict(FLIGHT)
    except ApiError as exc:
        return [*failures, f"/predict answered {exc.status}: {exc.detail}"]
    if not 0.0 <= prediction.probability <= 1.0:
        failures.append(f"/predict gave no probability in [0, 1]: {prediction}")
    if prediction.model_version != ready.get("model_version"):
        failures.append(f"/predict used {prediction.model_version}, /ready says {ready.get('model_version')}")
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
