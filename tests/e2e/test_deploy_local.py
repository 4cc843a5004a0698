"""The deployed loop can fail: with one permission a stage needs removed, deploy-local names that stage.

`make deploy-local` (CI runs it) proves the loop passes on the Terraform as it is; this proves the
check has teeth: in a scratch copy of infra/, the fetcher loses its write to new/, and the loop run
against moto with IAM enforced must stop at the fetcher, after training passed with its own role
(the second stage: the earliest failure that still shows a stage before it passing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FETCHER_WRITES = 'write = ["${local.data}/new/*"]'


@pytest.fixture(scope="module")  # module scope: set up before the autouse fixture clears FLIGHTDELAY_*
def terraform() -> str:
    found = shutil.which("terraform")
    if found is None:
        if os.environ.get("FLIGHTDELAY_REQUIRE_TERRAFORM"):
            pytest.fail("terraform is required here but is missing")
        pytest.skip("terraform is not installed (https://developer.hashicorp.com/terraform/install)")
    return found


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_deployed_loop_stops_at_the_stage_whose_permission_is_missing(
    terraform: str, tmp_path: Path
) -> None:
    infra = tmp_path / "infra"
    shutil.copytree(ROOT / "infra", infra, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    iam = infra / "modules" / "iam" / "main.tf"
    text = iam.read_text()
    assert text.count(FETCHER_WRITES) == 1, "the fetcher's write list changed: update this test's edit"
    iam.write_text(text.replace(FETCHER_WRITES, "write = []"))

    result = subprocess.run(
        [sys.executable, str(ROOT / "infra/local/deploy_local.py"), "--infra", str(infra),
         "--work", str(tmp_path / "work"), "--loop-only"],
        cwd=ROOT, capture_output=True, text=True, timeout=580,
    )  # fmt: skip

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED at fetcher" in result.stderr
    assert "AccessDenied" in result.stderr
    # The stage before it ran with its own role and passed; nothing after it ran.
    assert "training: seeded and staged a model" in result.stdout
    assert "evaluator:" not in result.stdout
