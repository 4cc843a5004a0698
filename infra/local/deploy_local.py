"""`make deploy-local`: apply the Terraform to a local AWS (moto) and run the real loop on it.

    moto (TLS, IAM enforced) ─▶ an administrator applies envs/account (state bucket, repositories,
    the pipeline's roles and boundaries) ─▶ the apply role, assumed with a GitHub OIDC token of the
    dev environment, applies envs/dev (state in the state bucket) ─▶ the loop, each stage with the
    credentials of its own task role, on the applied buckets, with the applied task definitions'
    environment: training seeds and trains ─▶ the fetcher fetches replayed days ─▶ the conditions
    stage publishes the replayed weather ─▶ the API starts with no model (its load-balancer health
    check answers) ─▶ the evaluator makes the first promotion ─▶ the API serves a prediction
    ─▶ the deploy role pushes image manifests and runs scripts/deploy.py: one rollout that
    completes, one whose image was never pushed, which the circuit breaker fails and the script
    undoes ─▶ the plan role plans: nothing moves what the deploy runs ─▶ what the pipeline's and
    the tasks' roles must not do, denied (each beside what they may do, allowed) ─▶ the
    task-failed-to-start alarm's rule matches ECS's event ─▶ prod applied beside dev by prod's
    apply role ─▶ destroy all ─▶ nothing left.

Works on a scratch copy of infra/ under .deploy-local/ (``--infra`` names another tree: a change to
try before it is made). Exit 0 when every step passed; 1 with the failing step
named otherwise.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import datetime as dt
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.exceptions import ClientError

from flightdelay import datasets
from offline.aviationstack import ReplayServer  # the Aviation Stack stand-in the fetcher reads

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
# Every AWS service the stack uses, by the provider's endpoint names.
SERVICES = [
    "appautoscaling", "athena", "cloudwatch", "ec2", "ecr", "ecs", "elbv2", "events", "glue", "iam",
    "kms", "logs", "s3", "scheduler", "secretsmanager", "sns", "sqs", "ssm", "sts",
]  # fmt: skip
FETCH_DAYS = ["2013-12-01", "2013-12-02", "2013-12-03"]
# Attributes moto 5.2 accepts but does not give back, so every plan "updates" them; listed in
# infra/README.md. A plan that changes anything else fails the check.
MOTO_DOES_NOT_ROUND_TRIP = {
    "aws_appautoscaling_target": {"tags_all"},
    "aws_ecs_service": {"availability_zone_rebalancing", "health_check_grace_period_seconds"},
    "aws_vpc_security_group_egress_rule": {"description"},
    "aws_vpc_security_group_ingress_rule": {"description"},
}
REPLAY_KEY = "deploy-local-replay-key"
GITHUB_REPOSITORY = "example-org/flightdelay"  # envs/account's github_repository here
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
IMAGE_SHA = "3f2c1e0"  # the commit images.yml would push
CONDITIONS_AT = dt.datetime(
    2013, 12, 9, 12, 0, tzinfo=dt.UTC
)  # 07:00 in New York, an hour before the asked flight
# What an operator sets on prod before tearing it down (infra/README.md, "Tearing an environment down").
UNPROTECTED = {"enable_deletion_protection": "false", "force_destroy": "true"}


class StepFailed(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step


def say(message: str) -> None:
    print(f"deploy-local: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: the emulator speaks TLS, as AWS does."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "moto.crt", folder / "moto.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Emulator:
    """The moto server (with infra/local/moto_local.py's fixes) and the identities it starts with."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.cert, key = make_certificate(work)
        env = {
            **os.environ,
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            # The first three requests (below) create the administrator; IAM is enforced after.
            "INITIAL_NO_AUTH_ACTION_COUNT": "3",
        }
        self.log = open(work / "moto.log", "w")  # noqa: SIM115  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("moto_local.py")),
             "--port", str(self.port), "--cert", str(self.cert), "--key", str(key)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/moto-api/", verify=str(self.cert), timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise StepFailed("emulator", f"moto did not start (see {work / 'moto.log'})") from None
                time.sleep(0.2)
        iam = self.client("iam", {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"})
        iam.create_user(UserName="local-admin")
        iam.attach_user_policy(
            UserName="local-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        key_pair = iam.create_access_key(UserName="local-admin")["AccessKey"]
        self.admin = {
            "aws_access_key_id": key_pair["AccessKeyId"],
            "aws_secret_access_key": key_pair["SecretAccessKey"],
        }
        # ECS assumes task roles for tasks; here a user stands in for it (moto_local.py, fix 3).
        admin_iam = self.client("iam")
        admin_iam.create_user(UserName="local-ecs-agent")
        admin_iam.put_user_policy(
            UserName="local-ecs-agent",
            PolicyName="assume-task-roles",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
                }
            ),
        )
        agent = admin_iam.create_access_key(UserName="local-ecs-agent")["AccessKey"]
        self.agent = {
            "aws_access_key_id": agent["AccessKeyId"],
            "aws_secret_access_key": agent["SecretAccessKey"],
        }

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            verify=str(self.cert),
            **(credentials or self.admin),
        )

    def task_credentials(self, role_arn: str, session: str) -> dict[str, str]:
        """A task role's temporary credentials, as ECS gets them for the task."""
        creds = self.client("sts", self.agent).assume_role(RoleArn=role_arn, RoleSessionName=session)[
            "Credentials"
        ]
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }

    def role_env(self, role_arn: str, session: str) -> dict[str, str]:
        """The environment a task with this role gets: its temporary credentials, and the emulator."""
        credentials = self.task_credentials(role_arn, session)
        return {**{key.upper(): value for key, value in credentials.items()}, **self.endpoint_env()}

    def endpoint_env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url, "AWS_CA_BUNDLE": str(self.cert), "AWS_DEFAULT_REGION": REGION}

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.log.close()


LOCAL_BACKEND = """
terraform {{
  backend "local" {{
    path = "{state}"
  }}
}}
"""
# The environments keep their S3 backend (versions.tf); this is what backend.hcl holds for the
# emulator: the state bucket envs/account made, reached like every other service.
S3_BACKEND = """bucket                      = "{bucket}"
region                      = "{region}"
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
custom_ca_bundle            = "{ca}"
endpoints = {{
  s3  = "{url}"
  sts = "{url}"
  iam = "{url}"
}}
"""
OVERRIDE = """# Written by infra/local/deploy_local.py into a scratch copy: the local emulator, not AWS.
# Credentials come from the environment: the administrator's, or a pipeline role's.
provider "aws" {{
  region                      = "{region}"
  custom_ca_bundle            = "{ca}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
"""


class Terraform:
    def __init__(self, emulator: Emulator, infra: Path, work: Path) -> None:
        self.emulator = emulator
        self.infra = infra
        self.work = work
        self.env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
        if Path("/opt/tf-plugins").is_dir():
            self.env["TF_CLI_CONFIG_FILE"] = str(ROOT / "infra" / "terraform.rc")
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            self.env.pop(name, None)
        self.credentials: dict[str, dict[str, str]] = {}  # root → the identity that runs it

    def prepare(self, root: str, credentials: dict[str, str], state_bucket: str | None = None) -> None:
        """Point a root at the emulator and init it: the account's state stays local, as an
        administrator keeps it; an environment's goes to the state bucket, as in the workflows."""
        folder = self.infra / "envs" / root
        endpoints = "\n".join(f'    {s} = "{self.emulator.url}"' for s in SERVICES)
        override = OVERRIDE.format(region=REGION, ca=self.emulator.cert, endpoints=endpoints)
        init = ["init", "-input=false", "-no-color", "-reconfigure"]
        if state_bucket is None:
            override += LOCAL_BACKEND.format(state=self.work / f"{root}.tfstate")
        else:
            backend = self.work / f"{root}.s3.tfbackend"
            backend.write_text(
                S3_BACKEND.format(
                    bucket=state_bucket, region=REGION, ca=self.emulator.cert, url=self.emulator.url
                )
            )
            init.append(f"-backend-config={backend}")
        (folder / "local_override.tf").write_text(override)
        self.credentials[root] = credentials
        self.run(root, *init)

    def run(
        self, root: str, *args: str, check: bool = True, credentials: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        log = self.work / f"terraform-{root}.log"
        identity = credentials or self.credentials[root]
        env = {**self.env, **{key.upper(): value for key, value in identity.items()}}
        process = subprocess.run(
            ["terraform", *args], cwd=self.infra / "envs" / root, env=env, capture_output=True, text=True
        )
        with log.open("a") as handle:
            handle.write(f"$ terraform {' '.join(args)}\n{process.stdout}\n{process.stderr}\n")
        if check and process.returncode != 0:
            errors = [line for line in process.stderr.splitlines() if "Error" in line or "denied" in line][:3]
            raise StepFailed(
                f"terraform {args[0]} {root}", "; ".join(errors) or f"exit {process.returncode} (see {log})"
            )
        return process

    def apply(self, root: str, variables: dict[str, str]) -> int:
        flags = [f"-var={k}={v}" for k, v in variables.items()]
        self.run(root, "apply", "-auto-approve", "-no-color", "-parallelism=20", *flags)
        return len(self.run(root, "state", "list").stdout.split())

    def outputs(self, root: str) -> dict[str, Any]:
        raw = json.loads(self.run(root, "output", "-json").stdout)
        return {k: v["value"] for k, v in raw.items()}

    def plan_changes(
        self, root: str, variables: dict[str, str], credentials: dict[str, str]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """(real changes, changes that are only attributes moto does not round-trip) of a new plan."""
        flags = [f"-var={k}={v}" for k, v in variables.items()]
        plan_file = self.work / f"{root}.tfplan"
        self.run(root, "plan", "-no-color", f"-out={plan_file}", *flags, credentials=credentials)
        plan = json.loads(self.run(root, "show", "-json", str(plan_file), credentials=credentials).stdout)
        real, emulator_only = [], []
        for change in plan.get("resource_changes", []):
            if change["change"]["actions"] in (["no-op"], ["read"]):
                continue
            before, after = change["change"].get("before") or {}, change["change"].get("after") or {}
            differing = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            described = (
                f"{change['address']} ({', '.join(differing) or '/'.join(change['change']['actions'])})"
            )
            allowed = MOTO_DOES_NOT_ROUND_TRIP.get(change["type"], set())
            if change["change"]["actions"] == ["update"] and differing and set(differing) <= allowed:
                emulator_only.append(described)
            else:
                real.append({**change, "described": described})
        return real, emulator_only

    def destroy(self, root: str, variables: dict[str, str]) -> None:
        flags = [f"-var={k}={v}" for k, v in variables.items()]
        self.run(root, "destroy", "-auto-approve", "-no-color", "-parallelism=20", *flags)
        left = self.run(root, "state", "list").stdout.split()
        if left:
            raise StepFailed(f"terraform destroy {root}", f"{len(left)} resources left in state: {left[:3]}")


# --- the pipeline's identities ------------------------------------------------------------------


def github_token(subject: str) -> str:
    """An OIDC token as GitHub Actions mints it for a job (the claims STS judges; unsigned here)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "iss": GITHUB_ISSUER,
        "aud": "sts.amazonaws.com",
        "sub": subject,
        "repository": GITHUB_REPOSITORY,
        "iat": now,
        "exp": now + 3600,
    }
    return f"{part({'alg': 'RS256', 'typ': 'JWT', 'kid': 'deploy-local'})}.{part(claims)}.c2lnbmF0dXJl"


def job_subject(environment: str | None) -> str:
    """The token's subject of a job in that GitHub environment (None: a pull request's job)."""
    kind = f"environment:{environment}" if environment else "pull_request"
    return f"repo:{GITHUB_REPOSITORY}:{kind}"


def assume_pipeline_role(emulator: Emulator, role_arn: str, subject: str) -> dict[str, str]:
    """What aws-actions/configure-aws-credentials does: AssumeRoleWithWebIdentity, unsigned."""
    sts = boto3.client(
        "sts", region_name=REGION, endpoint_url=emulator.url, verify=str(emulator.cert),
        config=botocore_unsigned(),
    )  # fmt: skip
    creds = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="github-actions", WebIdentityToken=github_token(subject)
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def botocore_unsigned() -> Any:
    from botocore import UNSIGNED
    from botocore.config import Config

    return Config(signature_version=UNSIGNED)


# --- the loop --------------------------------------------------------------------------------------


def task_environment(emulator: Emulator, family: str) -> tuple[dict[str, str], str]:
    """The container environment and task role of the applied task definition (latest revision)."""
    task = emulator.client("ecs").describe_task_definition(taskDefinition=family)["taskDefinition"]
    container = task["containerDefinitions"][0]
    env = {item["name"]: item["value"] for item in container.get("environment", [])}
    return env, task["taskRoleArn"]


def run_stage(
    name: str,
    emulator: Emulator,
    family: str,
    command: list[str],
    work: Path,
    extra: dict[str, str] | None = None,
    *,
    ok: tuple[int, ...] = (0,),
) -> subprocess.CompletedProcess[str]:
    env_vars, role = task_environment(emulator, family)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLIGHTDELAY_"))},
        **env_vars,
        **emulator.role_env(role, f"{name}-task"),
        **(extra or {}),
    }
    started = time.monotonic()
    process = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True)
    (work / f"stage-{name}.log").write_text(process.stdout + "\n" + process.stderr)
    if process.returncode not in ok:
        last = [line for line in process.stderr.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
        raise StepFailed(
            name, f"exit {process.returncode} after {time.monotonic() - started:.0f} s: {last[0]}"
        )
    return process


def read_secret(emulator: Emulator, exec_role: str, name: str) -> str:
    """Read the Aviation Stack key as ECS does for the task: with the task execution role."""
    ssm = emulator.client("ssm", emulator.task_credentials(exec_role, "task-exec"))
    parameters = ssm.get_parameters(Names=[name], WithDecryption=True)
    if not parameters["Parameters"]:
        raise StepFailed("fetcher", f"the execution role could not read {name}")
    return str(parameters["Parameters"][0]["Value"])


@contextlib.contextmanager
def api_process(emulator: Emulator, family: str, work: Path) -> Iterator[str]:
    env_vars, role = task_environment(emulator, family)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLIGHTDELAY_"))},
        **env_vars,
        **emulator.role_env(role, "api-task"),
        "FLIGHTDELAY_API_HOST": "127.0.0.1",
        "FLIGHTDELAY_API_PORT": str(port),
        "FLIGHTDELAY_API_POLL_SECONDS": "1",
    }
    log = (work / "stage-api.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise StepFailed("api", f"the API did not start (see {work / 'stage-api.log'})") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()  # SIGTERM, as ECS stops a task: the API flushes its answer log, then exits
        try:
            process.wait(timeout=90)  # the evaluator's watch reads that log next: wait for it to land
        except subprocess.TimeoutExpired:
            process.kill()
            raise StepFailed("api", "the API did not stop within 90 s of SIGTERM") from None
        finally:
            log.close()


def smoke(step: str, url: str) -> None:
    """The deploy workflow's own smoke test (scripts/smoke.py) against the API."""
    process = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "smoke.py"), url, "--timeout", "20"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if process.returncode != 0:
        raise StepFailed(step, f"scripts/smoke.py: {process.stderr.strip()}")


def run_loop(emulator: Emulator, outputs: dict[str, Any], work: Path, results: dict[str, str]) -> None:
    families = outputs["task_families"]
    replay = ReplayServer(key=REPLAY_KEY).start()
    try:
        t0 = time.monotonic()
        run_stage(
            "training", emulator, families["training"],
            ["-m", "training", "--sample", "20000", "--candidates", "linear_and_boosting"], work,
        )  # fmt: skip
        results["training"] = f"seeded and staged a model ({time.monotonic() - t0:.0f} s)"
        say(f"training: {results['training']}")

        t0 = time.monotonic()
        # The operator puts the key; ECS hands it to the fetcher through the execution role.
        emulator.client("ssm").put_parameter(
            Name=outputs["aviationstack_key_parameter"], Value=REPLAY_KEY, Type="SecureString", Overwrite=True
        )
        task = emulator.client("ecs").describe_task_definition(taskDefinition=families["fetcher"])[
            "taskDefinition"
        ]
        key = read_secret(emulator, task["executionRoleArn"], outputs["aviationstack_key_parameter"])
        kept = 0
        for day in FETCH_DAYS:
            process = run_stage(
                "fetcher", emulator, families["fetcher"], ["-m", "services.fetcher", "--date", day], work,
                {"FLIGHTDELAY_AVIATIONSTACK_KEY": key, "FLIGHTDELAY_AVIATIONSTACK_URL": replay.url},
            )  # fmt: skip
            kept += int(json.loads(process.stdout)["kept"])
        results["fetcher"] = (
            f"{kept:,} flights over {len(FETCH_DAYS)} replayed days ({time.monotonic() - t0:.0f} s)"
        )
        say(f"fetcher: {results['fetcher']}")

        t0 = time.monotonic()
        replay.clock = CONDITIONS_AT  # the replayed METAR API's "now"
        process = run_stage(
            "conditions", emulator, families["conditions"],
            ["-m", "services.conditions", "--at", f"{CONDITIONS_AT:%Y-%m-%dT%H:%M}"], work,
            {"FLIGHTDELAY_AVIATIONWEATHER_URL": replay.weather_url, "FLIGHTDELAY_CONDITIONS_HOURS": "72"},
        )  # fmt: skip
        observed = json.loads(process.stdout)
        results["conditions"] = (
            f"{observed['observations']} METAR observations kept, conditions/latest.json as of "
            f"{observed['as_of']} ({time.monotonic() - t0:.0f} s)"
        )
        say(f"conditions: {results['conditions']}")

        with api_process(emulator, families["api"], work) as url:
            health_path = emulator.client("elbv2").describe_target_groups(
                Names=[outputs["api_service_name"]]
            )["TargetGroups"][0]["HealthCheckPath"]
            first = httpx.get(f"{url}{health_path}", timeout=5)
            if first.status_code != 200:
                raise StepFailed(
                    "api", f"health check {health_path} answered {first.status_code} with no model live"
                )
            smoke("api (before the first promotion)", url)
            t0 = time.monotonic()
            run_stage(
                "evaluator", emulator, families["evaluator"],
                ["-m", "services.evaluator", "--end", FETCH_DAYS[-1], "--window-days", str(len(FETCH_DAYS))],
                work,
                {"FLIGHTDELAY_EVAL_MIN_ROC_AUC": "0.55"},
            )  # fmt: skip
            live = (
                emulator.client("s3")
                .get_object(Bucket=outputs["models_bucket"], Key="latest.txt")["Body"]
                .read()
            )
            results["evaluator"] = f"promoted {live.decode().split('/')[1]} ({time.monotonic() - t0:.0f} s)"
            say(f"evaluator: {results['evaluator']}")

            flight = {
                "carrier": "B6",
                "origin": "JFK",
                "dest": "BOS",
                "scheduled_departure": "2013-12-09T08:00:00",
            }
            deadline = time.monotonic() + 30
            while True:
                answer = httpx.post(f"{url}/predict", json=flight, timeout=10)
                if answer.status_code == 200:
                    break
                if time.monotonic() > deadline:
                    raise StepFailed(
                        "api",
                        f"/predict still {answer.status_code} 30 s after the promotion: {answer.text[:99]}",
                    )
                time.sleep(0.5)
            body = answer.json()
            if body["conditions"]["known_at"] is None:  # its role reads conditions/latest.json
                raise StepFailed("api", f"the answer knew no conditions: {body['conditions']}")
            smoke("api", url)
            results["api"] = (
                f"{health_path} 200 before any model; after the promotion P(late)={body['probability']:.2f} "
                f"from {body['model_version']}, "
                f"knowing the weather {body['conditions']['hours_ahead']} h ahead"
            )
            say(f"api: {results['api']}")

            # Real flights of the last fetched day, asked about as if before they left: the API
            # logs every answer to predictions/ with its own role (the last flush: at shutdown).
            last_day = dt.date.fromisoformat(FETCH_DAYS[-1])
            asked = [
                {
                    "carrier": r.carrier,
                    "origin": r.origin,
                    "dest": r.dest,
                    "scheduled_departure": r.sched_dep_local.isoformat(),
                    "scheduled_arrival": r.sched_arr_local.isoformat(),
                }
                for r in datasets.load_flights(last_day, last_day).iloc[::5].itertuples()
            ]
            httpx.post(f"{url}/predict", json={"flights": asked}, timeout=60).raise_for_status()
        # The evaluator's daily run again (nothing new to evaluate: 12), which watches the live model
        # on that day with its own role: the answers joined with the fetched outcomes, and drift.
        t0 = time.monotonic()
        process = run_stage(
            "evaluator-watch", emulator, families["evaluator"],
            ["-m", "services.evaluator", "--end", FETCH_DAYS[-1]], work, ok=(12,),
        )  # fmt: skip
        watched = json.loads(process.stdout)["monitor"]
        quality = watched.get("quality") or {}
        if quality.get("flights", 0) < len(asked) // 2:
            raise StepFailed("evaluator", f"the watch judged too few of the {len(asked)} answers: {watched}")
        results["monitor"] = (
            f"{watched['answers']} logged answers, {quality['flights']} with an outcome: live ROC-AUC "
            f"{quality['roc_auc']}, flag right {quality['flag_accuracy']:.0%}; drift max PSI "
            f"{watched['drift']['max_psi']} ({time.monotonic() - t0:.0f} s)"
        )
        say(f"monitor: {results['monitor']}")
    finally:
        replay.stop()


# --- delivery: the deploy role, scripts/deploy.py, and what no pipeline role may do -------------

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def image_manifest(image: str) -> str:
    """An OCI image manifest as `docker push` sends it (moto keeps manifests, not layers)."""

    def digest(text: str) -> str:
        import hashlib

        return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"

    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(f"{image} config {IMAGE_SHA}"),
                "size": 1024,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest(f"{image} layer {IMAGE_SHA}"),
                    "size": 4096,
                }
            ],
        }
    )


def run_deploy(
    emulator: Emulator, credentials: dict[str, str], outputs: dict[str, Any], smoke_url: str,
    work: Path, *tag: str,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """scripts/deploy.py as deploy.yml runs it, with the deploy role's credentials."""
    families = outputs["task_families"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLIGHTDELAY_"))},
        **{key.upper(): value for key, value in credentials.items()},
        **emulator.endpoint_env(),
    }
    process = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy.py"), *tag,
         "--cluster", outputs["cluster_name"], "--service", outputs["api_service_name"],
         "--families", ",".join(f"{k}={f}" for k, f in families.items()),
         "--schedules", ",".join(f"{k}={f}" for k, f in families.items() if k != "api"),
         "--smoke-url", smoke_url, "--record-tag-parameter", outputs["image_tag_parameter"],
         "--timeout", "60", "--poll-seconds", "0.2", "--smoke-timeout", "20"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    with (work / "deploy.log").open("a") as log:
        log.write(f"$ deploy.py {' '.join(tag)} → {process.returncode}\n{process.stdout}\n{process.stderr}\n")
    return process


def what_runs(emulator: Emulator, outputs: dict[str, Any]) -> dict[str, str]:
    """Key → the revision the API service and each schedule run now."""
    service = emulator.client("ecs").describe_services(
        cluster=outputs["cluster_name"], services=[outputs["api_service_name"]]
    )["services"][0]
    running = {"api": str(service["taskDefinition"])}
    scheduler = emulator.client("scheduler")
    for key, family in outputs["task_families"].items():
        if key != "api":
            target = scheduler.get_schedule(Name=family)["Target"]["EcsParameters"]
            running[key] = str(target["TaskDefinitionArn"])
    return running


def deliver(
    emulator: Emulator, account: dict[str, Any], outputs: dict[str, Any], deploy: dict[str, str],
    work: Path, results: dict[str, str],
) -> None:  # fmt: skip
    t0 = time.monotonic()
    ecr = emulator.client("ecr", deploy)
    for image, url in account["image_repositories"].items():
        ecr.put_image(
            repositoryName=url.split("/", 1)[1], imageTag=IMAGE_SHA,
            imageManifest=image_manifest(image), imageManifestMediaType=OCI_MANIFEST,
        )  # fmt: skip
    results["push"] = (
        f"deploy role pushed the manifests of {len(account['image_repositories'])} images as {IMAGE_SHA}"
    )
    say(f"push: {results['push']}")
    with api_process(emulator, outputs["task_families"]["api"], work) as url:
        good = run_deploy(emulator, deploy, outputs, url, work, "--image-tag", f"dev-{IMAGE_SHA}",
                          "--source-tag", IMAGE_SHA)  # fmt: skip
        if good.returncode != 0:
            raise StepFailed(
                "deploy", f"scripts/deploy.py exit {good.returncode}: {good.stderr.strip()[-300:]}"
            )
        deployed = what_runs(emulator, outputs)
        summary = json.loads(good.stdout)
        if deployed != summary["families"]:
            raise StepFailed("deploy", f"the summary says {summary['families']}, ECS runs {deployed}")
        results["deploy"] = (
            f"deploy role rolled out dev-{IMAGE_SHA}: rollout COMPLETED, {len(deployed)} families on their "
            f"new revisions (API {deployed['api'].rsplit('/', 1)[1]}), smoke test passed"
        )
        say(f"deploy: {results['deploy']}")

        never_pushed = "dev-0badc0de"  # no image has this tag: its tasks cannot start
        bad = run_deploy(emulator, deploy, outputs, url, work, "--image-tag", never_pushed)
        failure = [line for line in bad.stderr.splitlines() if line.startswith("deploy: failed")]
        if bad.returncode != 1 or not failure:
            raise StepFailed(
                "failed rollout", f"scripts/deploy.py exit {bad.returncode}: {bad.stderr[-300:]}"
            )
        after = what_runs(emulator, outputs)
        if after != deployed:
            raise StepFailed("failed rollout", f"not restored: ran {deployed}, now runs {after}")
        results["failed rollout"] = (
            f"{never_pushed} (never pushed) undone, exit 1: {failure[0][:160]}; everything back on "
            f"dev-{IMAGE_SHA}'s revisions"
        )
        say(f"failed rollout: {results['failed rollout']}")
    results["delivery time"] = f"{time.monotonic() - t0:.0f} s"


def expect_denied(what: str, call: Any) -> str:
    try:
        call()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if "AccessDenied" in code or (status == 403 and "not authorized" in str(error)):
            say(f"denied: {what} ({code if 'AccessDenied' in code else 'AccessDenied, 403'})")
            return what
        raise StepFailed("negative controls", f"{what}: failed with {code} ({error}), not denied") from error
    raise StepFailed("negative controls", f"{what}: was allowed")


def negative_controls(
    emulator: Emulator, account: dict[str, Any], outputs: dict[str, Any],
    roles: dict[str, dict[str, str]], results: dict[str, str],
) -> None:  # fmt: skip
    """What the pipeline's roles must not do, each denied, beside what they may do, allowed."""
    variables = account["github_variables"]
    prod_apply_arn = variables["environments"]["prod"]["AWS_TERRAFORM_APPLY_ROLE_ARN"]
    dev_deploy_arn = variables["environments"]["dev"]["AWS_DEPLOY_ROLE_ARN"]
    boundary = account["permissions_boundaries"]["dev"]
    deploy_ecs = emulator.client("ecs", roles["deploy"])
    apply_iam = emulator.client("iam", roles["apply"])
    trust = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    })  # fmt: skip
    container = [{"name": "x", "image": "public.ecr.aws/docker/library/busybox:1", "memory": 128}]
    emulator.client("ecr").create_repository(repositoryName="other-team/app")  # not the project's
    task_role = outputs["task_families"]["api"] + "-task"
    denied = [
        expect_denied(
            "deploy role registers a prod task family",
            lambda: deploy_ecs.register_task_definition(
                family="flightdelay-prod-api", containerDefinitions=container
            ),
        ),
        expect_denied(
            "deploy role pushes to a repository outside the project",
            lambda: emulator.client("ecr", roles["deploy"]).put_image(
                repositoryName="other-team/app",
                imageTag=IMAGE_SHA,
                imageManifest=image_manifest("x"),
                imageManifestMediaType=OCI_MANIFEST,
            ),
        ),
        expect_denied(
            "apply role creates a role without the boundary",
            lambda: apply_iam.create_role(
                RoleName="flightdelay-dev-escalate", AssumeRolePolicyDocument=trust
            ),
        ),
        expect_denied(
            "apply role lifts the boundary off a role",
            lambda: apply_iam.delete_role_permissions_boundary(RoleName=task_role),
        ),
        expect_denied(
            "dev apply role writes prod's state",
            lambda: emulator.client("s3", roles["apply"]).put_object(
                Bucket=account["state_bucket"], Key="flightdelay/prod/terraform.tfstate", Body=b"{}"
            ),
        ),
        expect_denied(
            "plan role reads the Aviation Stack key",
            lambda: emulator.client("ssm", roles["plan"]).get_parameter(
                Name=outputs["aviationstack_key_parameter"], WithDecryption=True
            ),
        ),
        expect_denied(
            "a dev job's token assumes prod's apply role",
            lambda: assume_pipeline_role(emulator, prod_apply_arn, job_subject("dev")),
        ),
        expect_denied(
            "a pull request's token assumes the dev deploy role",
            lambda: assume_pipeline_role(emulator, dev_deploy_arn, job_subject(None)),
        ),
    ]
    # Each stage's task role, as rendered and applied: only the evaluator moves the live model, and
    # the API writes nothing but its answers (the loop above showed each stage allowed its own part).
    for key, family in outputs["task_families"].items():
        if key == "evaluator":
            continue
        _, task_role = task_environment(emulator, family)
        task_s3 = emulator.client("s3", emulator.task_credentials(task_role, f"{key}-task"))
        denied.append(
            expect_denied(
                f"{key}'s task role rewrites latest.txt (promotes a model)",
                lambda task_s3=task_s3: task_s3.put_object(
                    Bucket=outputs["models_bucket"], Key="latest.txt", Body=b"prod/forged/model.skops"
                ),
            )
        )
    # The allowed counterparts the steps before did not already show (the apply created every role
    # with the boundary, the deploy pushed and registered, the execution role read the key).
    apply_iam.create_role(
        RoleName="flightdelay-dev-escalate", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary
    )
    apply_iam.delete_role(RoleName="flightdelay-dev-escalate")
    say("allowed: apply role creates (then deletes) the same role with the boundary")
    emulator.client("ecr").delete_repository(repositoryName="other-team/app", force=True)
    results["negative controls"] = (
        f"{len(denied)} denied, each beside its allowed counterpart (the evaluator's promotion for the "
        "task roles')"
    )


def task_failure_alarm(emulator: Emulator, outputs: dict[str, Any], results: dict[str, str]) -> None:
    """The alarm rule matches the event ECS sends for a task that could not start, and only that."""
    events = emulator.client("events")
    stack = outputs["api_service_name"].removesuffix("-api")
    rule = events.describe_rule(Name=f"{stack}-task-failed")
    targets = [t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
    if targets != [outputs["alarm_topic_arn"]]:
        raise StepFailed("alarm", f"{rule['Name']} notifies {targets}, not the alarm topic")
    cluster = emulator.client("ecs").describe_clusters(clusters=[outputs["cluster_name"]])["clusters"][0]

    def ecs_event(
        **detail: Any,
    ) -> str:  # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
        base = {"clusterArn": cluster["clusterArn"], "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
                "group": f"service:{outputs['api_service_name']}"}  # fmt: skip
        return json.dumps({
            "version": "0", "id": "d1b4a4b1-0000-0000-0000-000000000000",
            "detail-type": "ECS Task State Change", "source": "aws.ecs",
            "account": cluster["clusterArn"].split(":")[4], "time": "2013-12-09T12:00:00Z",
            "region": REGION, "resources": [], "detail": {**base, **detail},
        })  # fmt: skip

    def fires(event: str) -> bool:
        return bool(events.test_event_pattern(EventPattern=rule["EventPattern"], Event=event)["Result"])

    failed = ecs_event(
        stopCode="TaskFailedToStart", stoppedReason="CannotPullContainerError: dev-0badc0de not found"
    )
    replaced = ecs_event(stopCode="ServiceSchedulerInitiated", stoppedReason="replaced by the deployment")
    elsewhere = json.loads(failed)
    elsewhere["detail"]["clusterArn"] = cluster["clusterArn"].replace(stack, "flightdelay-prod")
    if not fires(failed) or fires(replaced) or fires(json.dumps(elsewhere)):
        raise StepFailed("alarm", f"{rule['Name']} does not single out a task that failed to start")
    results["alarm"] = (
        f"{rule['Name']} fires on a task that failed to start (to the alarm topic), not on one a "
        "deployment replaced, nor on another environment's"
    )
    say(f"alarm: {results['alarm']}")


def empty_bucket(emulator: Emulator, bucket: str) -> None:
    s3 = emulator.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def leftovers(emulator: Emulator) -> list[str]:
    """What an empty account would not have (moto's own bootstrap identities aside)."""
    found = [f"bucket {b['Name']}" for b in emulator.client("s3").list_buckets()["Buckets"]]
    found += [f"role {r['RoleName']}" for r in emulator.client("iam").list_roles()["Roles"]]
    ecs = emulator.client("ecs")
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    # A deleted cluster stays visible as INACTIVE for a while, in AWS as in moto.
    found += [f"cluster {c['clusterName']}" for c in clusters if c["status"] != "INACTIVE"]
    found += [
        f"repository {r['repositoryName']}"
        for r in emulator.client("ecr").describe_repositories()["repositories"]
    ]
    found += [
        f"load balancer {lb['LoadBalancerName']}"
        for lb in emulator.client("elbv2").describe_load_balancers()["LoadBalancers"]
    ]
    found += [
        f"vpc {v['VpcId']}" for v in emulator.client("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")
    ]
    found += [f"queue {q}" for q in emulator.client("sqs").list_queues().get("QueueUrls", [])]
    found += [f"schedule {s['Name']}" for s in emulator.client("scheduler").list_schedules()["Schedules"]]
    return found


def follows_the_deploy(change: dict[str, Any]) -> bool:
    """The one change a plan may want after a deploy, by design (modules/secrets): a task definition
    registered again because the image tag the deploy recorded is the one every revision runs."""
    if change["type"] != "aws_ecs_task_definition":
        return False
    after = json.loads(change["change"]["after"].get("container_definitions") or "[]")
    before = json.loads(change["change"]["before"].get("container_definitions") or "[]")

    def shape(container: dict[str, Any]) -> dict[str, Any]:  # state keeps empty lists the config omits
        return {k: v for k, v in container.items() if k != "image" and v not in ([], None)}

    images = [c["image"] for c in after]
    return (
        bool(images)
        and all(i.endswith(f":dev-{IMAGE_SHA}") for i in images)
        and [shape(c) for c in after] == [shape(c) for c in before]
    )


def apply_prod(tf: Terraform) -> str:
    """prod beside dev in the same account, by prod's apply role, applied as an operator leaves it
    before a teardown (unprotected: deploy-local destroys it at the end)."""
    t0 = time.monotonic()
    count = tf.apply("prod", UNPROTECTED)
    seconds = time.monotonic() - t0
    return f"prod's apply role: {count} resources beside dev in the same account in {seconds:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Apply the Terraform to a local AWS (moto) and run the loop on it."
    )
    parser.add_argument(
        "--infra", type=Path, default=ROOT / "infra", help="the infra/ tree to apply (default: this repo's)"
    )
    parser.add_argument("--work", type=Path, default=ROOT / ".deploy-local", help="scratch folder (replaced)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    infra = args.work / "infra"
    shutil.copytree(
        args.infra, infra, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "local_override.tf")
    )
    results: dict[str, str] = {}
    emulator: Emulator | None = None
    step = "emulator"
    try:
        emulator = Emulator(args.work)
        tf = Terraform(emulator, infra, args.work)
        account_variables = {"github_repository": GITHUB_REPOSITORY, "ecr_force_delete": "true"}
        variables: dict[str, str] = {}  # the environments need no input

        step = "apply account"
        t0 = time.monotonic()
        tf.prepare("account", emulator.admin)
        count = tf.apply("account", account_variables)
        account = tf.outputs("account")
        results["apply account"] = f"administrator: {count} resources in {time.monotonic() - t0:.0f} s"
        say(f"apply account: {results['apply account']}")

        step = "pipeline roles"
        github = account["github_variables"]
        roles = {
            "plan": (github["repository"]["AWS_TERRAFORM_PLAN_ROLE_ARN"], job_subject(None)),
            "apply": (github["environments"]["dev"]["AWS_TERRAFORM_APPLY_ROLE_ARN"], job_subject("dev")),
            "deploy": (github["environments"]["dev"]["AWS_DEPLOY_ROLE_ARN"], job_subject("dev")),
            "prod apply": (
                github["environments"]["prod"]["AWS_TERRAFORM_APPLY_ROLE_ARN"],
                job_subject("prod"),
            ),
        }
        credentials = {name: assume_pipeline_role(emulator, arn, sub) for name, (arn, sub) in roles.items()}
        for name, (arn, sub) in roles.items():
            say(f"{name} role: {arn.split('/')[-1]}, assumed with a GitHub OIDC token for {sub}")

        step = "apply dev"
        t0 = time.monotonic()
        tf.prepare("dev", credentials["apply"], account["state_bucket"])
        tf.prepare("prod", credentials["prod apply"], account["state_bucket"])
        count = tf.apply("dev", variables)
        results["apply dev"] = f"apply role: {count} resources in {time.monotonic() - t0:.0f} s"
        say(f"apply dev: {results['apply dev']}")

        # prod is applied while the loop runs on dev: they share the account, not their state.
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            prod = pool.submit(apply_prod, tf)
            step = "loop"
            outputs = tf.outputs("dev")
            run_loop(emulator, outputs, args.work, results)

            step = "delivery"
            deliver(emulator, account, outputs, credentials["deploy"], args.work, results)

            step = "plan dev"
            changes, emulator_only = tf.plan_changes("dev", variables, credentials["plan"])
            fighting = [c["described"] for c in changes if not follows_the_deploy(c)]
            if fighting:
                raise StepFailed(
                    "plan dev", f"after the loop and the deploys, a plan wants: {'; '.join(fighting[:5])}"
                )
            results["plan dev"] = (
                f"plan role: after the loop and the deploys, nothing but {len(changes)} task definitions "
                f"registered again on the deployed image (besides {len(emulator_only)} attributes moto does "
                "not store, infra/README.md); no schedule, no service moved"
            )
            say(f"plan dev: {results['plan dev']}")
            step = "negative controls"
            negative_controls(emulator, account, outputs, credentials, results)
            step = "alarm"
            task_failure_alarm(emulator, outputs, results)

            step = "apply prod"
            results["apply prod"] = prod.result()
            say(f"apply prod: {results['apply prod']}")

            step = "destroy"
            t0 = time.monotonic()
            destroying = [pool.submit(tf.destroy, "prod", UNPROTECTED), pool.submit(tf.destroy, "dev", {})]
            for done in destroying:
                done.result()
        # Last: it holds the boundaries and the state bucket, which keeps every state version it
        # was given; an administrator empties it first (the bucket is never force-destroyed).
        empty_bucket(emulator, account["state_bucket"])
        tf.destroy("account", account_variables)
        left = leftovers(emulator)
        if left:
            raise StepFailed("destroy", f"{len(left)} things left: {', '.join(left[:5])}")
        seconds = time.monotonic() - t0
        results["destroy"] = (
            f"prod and dev by their apply roles, then the account, nothing left ({seconds:.0f} s)"
        )
        return _done(results, started)
    except StepFailed as exc:
        print(f"deploy-local: FAILED at {exc.step}: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # anything unplanned still names the step it broke
        print(f"deploy-local: FAILED at {step}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if emulator is not None:
            emulator.stop()


def _done(results: dict[str, str], started: float) -> int:
    say(f"passed in {time.monotonic() - started:.0f} s")
    for step, result in results.items():
        print(f"  {step:<17} {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
