"""The workflows' hardening rules, checked on every workflow and proven to catch a bad one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).parents[2] / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([^@\s]+)@([0-9a-f]{40})\s+#\s+v\d+(\.\d+)*\s*$")
UNTRUSTED = re.compile(r"\$\{\{")  # no expression at all inside run:, values go through env:


def violations(text: str) -> list[str]:
    """Every broken rule of one workflow file, as readable sentences."""
    problems = []
    doc: dict[Any, Any] = yaml.safe_load(text)
    if doc.get("permissions") != {}:
        problems.append("top-level permissions must be {}")
    for line in text.splitlines():
        if (
            re.match(r"^\s*(?:-\s+)?uses:\s", line)
            and "/.github/workflows/" not in line
            and not PINNED.match(line)
        ):
            problems.append(f"action not pinned to a full SHA with a version comment: {line.strip()}")
        if re.search(r"aws-access-key-id|aws-secret-access-key", line):
            problems.append("AWS keys in a workflow: use role-to-assume (OIDC)")
        role = re.search(r"role-to-assume:\s*(\S.*)$", line)
        if role and not role.group(1).startswith("${{ vars."):
            problems.append(f"role ARNs come from repository variables: {line.strip()}")
        if re.search(r"arn:aws:iam::\d{12}", line):
            problems.append(f"no account id or ARN literal: {line.strip()}")
    for name, job in (doc.get("jobs") or {}).items():
        is_reusable_call = "uses" in job
        if not is_reusable_call and "timeout-minutes" not in job:
            problems.append(f"job {name}: no timeout-minutes")
        if "permissions" not in job:
            problems.append(f"job {name}: no job-level permissions")
        steps = job.get("steps") or []
        assumes_role = any("configure-aws-credentials" in str(step.get("uses", "")) for step in steps)
        if (job.get("permissions") or {}).get("id-token") == "write" and not (
            assumes_role or is_reusable_call
        ):
            problems.append(f"job {name}: id-token: write without assuming a role")
        for step in steps:
            if (
                "actions/checkout" in str(step.get("uses", ""))
                and (step.get("with") or {}).get("persist-credentials") is not False
            ):
                problems.append(f"job {name}: checkout without persist-credentials: false")
            if "run" in step and UNTRUSTED.search(str(step["run"])):
                problems.append(f"job {name}: an expression inside run: (pass it through env:)")
    return problems


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_every_workflow_follows_the_hardening_rules(workflow: Path) -> None:
    assert violations(workflow.read_text()) == []


def test_the_expected_workflows_exist() -> None:
    assert {w.name for w in WORKFLOWS} == {"ci.yml", "images.yml", "deploy.yml", "terraform.yml"}


BAD = """
name: bad
on: [push]
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: x
          role-to-assume: arn:aws:iam::123456789012:role/deploy
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_rules_catch_a_bad_workflow() -> None:
    found = violations(BAD)
    expected = [
        "top-level permissions must be {}",
        "action not pinned to a full SHA with a version comment: - uses: actions/checkout@v4",
        "AWS keys in a workflow: use role-to-assume (OIDC)",
        "role ARNs come from repository variables: role-to-assume: arn:aws:iam::123456789012:role/deploy",
        "job build: no timeout-minutes",
        "job build: checkout without persist-credentials: false",
        "job build: an expression inside run: (pass it through env:)",
    ]
    for problem in expected:
        assert problem in found, (problem, found)


def test_dependabot_watches_actions_the_lock_and_the_image_with_a_cooldown() -> None:
    config = yaml.safe_load((WORKFLOWS[0].parents[1] / "dependabot.yml").read_text())
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert {"github-actions", "uv", "docker"} <= set(ecosystems)
    assert all(u["cooldown"]["default-days"] >= 1 for u in ecosystems.values())


def test_the_image_and_the_checkout_install_exactly_the_lock() -> None:
    """uv.lock is the one list of versions: the Dockerfile and `make setup` refuse a stale lock."""
    root = WORKFLOWS[0].parents[2]
    dockerfile, makefile = (root / "Dockerfile").read_text(), (root / "Makefile").read_text()
    assert "COPY pyproject.toml uv.lock" in dockerfile
    installs = [line for line in dockerfile.splitlines() if "uv sync" in line]
    assert installs
    assert all("--locked" in line for line in installs)
    assert "pip install" not in dockerfile.replace("pip install --no-cache-dir uv==", "")
    assert "uv sync --quiet --locked" in makefile
    assert "pip install --quiet -e" not in makefile


def test_the_images_leave_the_offline_stand_ins_out() -> None:
    root = WORKFLOWS[0].parents[2]
    ignored = (root / ".dockerignore").read_text().splitlines()
    assert "offline" in ignored
    assert "COPY offline" not in (root / "Dockerfile").read_text()
