"""A newcomer's path: the README's step-by-step table, run as written in a fresh directory with
the project's environment on PATH (what `source .venv/bin/activate` gives)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVERS = {"replay-server": 8081, "serve": 8000}  # the ports the README's commands use


def readme_commands() -> list[str]:
    """The commands of the table under "The loop, step by step", in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## The loop, step by step", 1)[1].split("\n## ", 1)[0]
    commands = []
    for row in section.splitlines():
        if not row.startswith("| ") or row.startswith("| step") or row.startswith("|---"):
            continue
        cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        commands += [c for c in re.findall(r"`([^`]+)`", cell) if "flightdelay " in c]
    return commands


def wait_for(port: int) -> None:
    """What a person does without thinking: let a server start before using it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port} a minute after it was started")


def test_the_table_names_every_stage_of_the_loop() -> None:
    commands = " ".join(readme_commands())
    for stage in (
        "seed",
        "train",
        "fetch",
        "conditions",
        "evaluate",
        "serve",
        "ask",
        "status",
        "rollback",
        "monitor",
    ):
        assert f"flightdelay {stage}" in commands


@pytest.mark.slow
@pytest.mark.timeout(600)  # two trainings and a fortnight of the loop; CI runs it beside deploy-local
def test_a_newcomer_runs_the_readme_path_as_written(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTDELAY_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    for port in SERVERS.values():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, (
                f"port {port} is taken: the README's servers need it"
            )
    servers: list[subprocess.Popen[bytes]] = []
    second = ""
    try:
        for command in readme_commands():
            if "VERSION" in command:  # the one placeholder the table explains: the second model
                command = command.replace("VERSION", second)
            background = command.endswith("&")
            shell = command.rstrip("& ")
            if background:
                servers.append(subprocess.Popen(["bash", "-c", f"exec {shell}"], cwd=tmp_path, env=env))
                wait_for(next(p for name, p in SERVERS.items() if f"flightdelay {name}" in shell))
                continue
            done = subprocess.run(
                ["bash", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{shell}\n{done.stderr[-2000:]}"
            if "flightdelay train --include-new" in shell:
                second = json.loads(done.stdout)["version"]
        status = httpx.get("http://127.0.0.1:8000/status.json", timeout=30).json()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    # The loop went as the demo's: the second model live at the end, the first judged on its week.
    assert second
    assert status["live"]["version"] == second
    assert [q["day"] for q in status["quality"]] == [f"2013-12-{d:02d}" for d in range(8, 15)]
    assert status["drift"] is not None
    verdicts = [d["verdict"] for d in status["decisions"]]
    assert verdicts == ["rolled_forward", "rolled_back", "promoted", "promoted"]
