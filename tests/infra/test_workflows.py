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


def from_variables(value: str, job: dict[str, Any]) -> bool:
    """A value read from repository variables: ``${{ vars.X }}``, or a matrix value that is one in
    every entry of the job's matrix (a pull request's plan reads each environment's own)."""
    if value.startswith("${{ vars."):
        return True
    key = re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", value)
    if not key:
        return False
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    values = [entry.get(key.group(1)) for entry in matrix.get("include") or []]
    values += list(matrix.get(key.group(1)) or [])
    return bool(values) and all(str(v).startswith("${{ vars.") for v in values)


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
            role = (step.get("with") or {}).get("role-to-assume")
            if role is not None and not from_variables(str(role), job):
                problems.append(f"role ARNs come from repository variables: role-to-assume: {role}")
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


def test_the_role_rule_follows_a_matrix_value_to_where_it_comes_from() -> None:
    job = """
name: matrix
on: [pull_request]
permissions: {}
jobs:
  plan:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      id-token: write
    strategy:
      matrix:
        include:
          - role: ${{ vars.PLAN_ROLE_ARN }}
          - role: %s
    steps:
      - uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2
        with:
          role-to-assume: ${{ matrix.role }}
"""
    assert violations(job % "${{ vars.PROD_PLAN_ROLE_ARN }}") == []
    assert set(violations(job % "arn:aws:iam::123456789012:role/plan")) == {
        "role ARNs come from repository variables: role-to-assume: ${{ matrix.role }}",
        "no account id or ARN literal: - role: arn:aws:iam::123456789012:role/plan",
    }


# --- delivery: who acts on a push to main, and in which order ---------------------------------------
def load(name: str) -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load((WORKFLOWS[0].parent / name).read_text())
    return doc


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def called(job: dict[str, Any]) -> str | None:
    """The workflow file a job calls (``uses: $/.github/workflows/x.yml`` or ``./.github/…``)."""
    uses = str(job.get("uses", ""))
    return uses.rsplit("/", 1)[-1] if "/.github/workflows/" in uses else None


def acts_on_aws(name: str) -> bool:
    """Whether a workflow builds, pushes, applies or deploys, itself or through one it calls."""
    doc = load(name)
    text = (WORKFLOWS[0].parent / name).read_text()
    if "docker/build-push-action" in text or "terraform apply" in text or name == "deploy.yml":
        return True
    return any(acts_on_aws(c) for job in doc["jobs"].values() if (c := called(job)))


def ancestors(jobs: dict[str, Any], name: str) -> set[str]:
    needs = jobs[name].get("needs") or []
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(ancestors(jobs, n) for n in direct))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps") or [])


def job_running(jobs: dict[str, Any], command: str, environment: str) -> str:
    """The one job of this environment whose steps run this command."""
    (name,) = [n for n, j in jobs.items() if j.get("environment") == environment and command in runs(j)]
    return name


def test_one_workflow_owns_a_push_to_main() -> None:
    """Two workflows on the same push race: an image deployed before the apply it needs, an apply
    under a running deploy. One workflow acts on a push to main, on every push to main."""
    owners: dict[str, Any] = {}
    for workflow in WORKFLOWS:
        on = triggers(load(workflow.name))
        push = on.get("push") or {}
        if "push" in on and "main" in push.get("branches", ["main"]) and acts_on_aws(workflow.name):
            owners[workflow.name] = push
    assert list(owners) == ["terraform.yml"]
    assert "paths" not in owners["terraform.yml"], "the owner acts on every push to main, not some"
    assert set(triggers(load("images.yml"))) == {"workflow_call", "workflow_dispatch"}


def test_a_push_builds_then_applies_dev_then_deploys_dev_then_prod() -> None:
    jobs = load("terraform.yml")["jobs"]
    by_call = {called(job): name for name, job in jobs.items() if called(job)}
    apply_dev = job_running(jobs, "terraform apply", "dev")
    apply_prod = job_running(jobs, "terraform apply", "prod")
    assert by_call["images.yml"] in ancestors(jobs, apply_dev)
    assert apply_dev in ancestors(jobs, by_call["deploy.yml"])
    assert jobs[by_call["deploy.yml"]]["with"]["environment"] == "dev"
    assert by_call["deploy.yml"] in ancestors(jobs, apply_prod)
    # the next push's apply waits for this push's deploy
    assert jobs[by_call["deploy.yml"]]["concurrency"]["group"] == jobs[apply_dev]["concurrency"]["group"]


def test_prod_applies_the_saved_plan_its_reviewers_approved() -> None:
    jobs = load("terraform.yml")["jobs"]
    apply_name = job_running(jobs, "terraform apply", "prod")
    (plan_name,) = [n for n in ancestors(jobs, apply_name) if "terraform plan" in runs(jobs[n])]
    apply, plan = jobs[apply_name], jobs[plan_name]
    assert "-out=tfplan" in runs(plan)
    uploads = [s for s in plan["steps"] if "actions/upload-artifact" in str(s.get("uses", ""))]
    downloads = [s for s in apply["steps"] if "actions/download-artifact" in str(s.get("uses", ""))]
    assert len(uploads) == 1
    assert len(downloads) == 1
    assert uploads[0]["with"]["path"].endswith("/tfplan")
    assert downloads[0]["with"]["name"] == uploads[0]["with"]["name"]
    applies = [line for line in runs(apply).splitlines() if "terraform apply" in line]
    assert applies == ["terraform apply -input=false tfplan"]
    for job in jobs.values():
        if job.get("environment") == "prod":
            assert "-auto-approve" not in runs(job)
