"""`make deploy-local`: apply the Terraform to a local AWS (moto) and run the real loop on it.

    moto (TLS, IAM enforced) ─▶ apply envs/account + envs/dev ─▶ the loop, each stage with the
    credentials of its own task role, on the applied buckets, with the applied task definitions'
    environment: training seeds and trains ─▶ the fetcher fetches replayed days ─▶ the conditions
    stage publishes the replayed weather ─▶ the API starts with no model (its load-balancer health
    check answers) ─▶ the evaluator makes the first
    promotion ─▶ the API serves a prediction ─▶ plan shows no changes ─▶ prod applied beside dev
    ─▶ destroy all ─▶ nothing left.

Works on a scratch copy of infra/ under .deploy-local/ (``--infra`` names another tree, which is how
the negative test removes a permission). Exit 0 when every step passed; 1 with the failing step
named otherwise.
"""

from __future__ import annotations

import argparse
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

    def role_env(self, role_arn: str, session: str) -> dict[str, str]:
        """The environment a task with this role gets: its temporary credentials, and the emulator."""
        creds = self.client("sts", self.agent).assume_role(RoleArn=role_arn, RoleSessionName=session)[
            "Credentials"
        ]
        return {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            **self.endpoint_env(),
        }

    def endpoint_env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url, "AWS_CA_BUNDLE": str(self.cert), "AWS_DEFAULT_REGION": REGION}

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.log.close()


OVERRIDE = """# Written by infra/local/deploy_local.py into a scratch copy: the local emulator, not AWS.
terraform {{
  backend "local" {{
    path = "{state}"
  }}
}}

provider "aws" {{
  region                      = "{region}"
  access_key                  = "{access_key}"
  secret_key                  = "{secret_key}"
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

    def prepare(self, root: str) -> None:
        folder = self.infra / "envs" / root
        endpoints = "\n".join(f'    {s} = "{self.emulator.url}"' for s in SERVICES)
        (folder / "local_override.tf").write_text(
            OVERRIDE.format(
                state=self.work / f"{root}.tfstate",
                region=REGION,
                access_key=self.emulator.admin["aws_access_key_id"],
                secret_key=self.emulator.admin["aws_secret_access_key"],
                ca=self.emulator.cert,
                endpoints=endpoints,
            )
        )
        self.run(root, "init", "-input=false", "-no-color")

    def run(self, root: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        log = self.work / f"terraform-{root}.log"
        process = subprocess.run(
            ["terraform", *args], cwd=self.infra / "envs" / root, env=self.env, capture_output=True, text=True
        )
        with log.open("a") as handle:
            handle.write(f"$ terraform {' '.join(args)}\n{process.stdout}\n{process.stderr}\n")
        if check and process.returncode != 0:
            errors = [line for line in process.stderr.splitlines() if "Error" in line][:3]
            raise StepFailed(
                f"terraform {args[0]} {root}", "; ".join(errors) or f"exit {process.returncode} (see {log})"
            )
        return process

    def apply(self, root: str, variables: dict[str, str]) -> int:
        self.prepare(root)
        flags = [f"-var={k}={v}" for k, v in variables.items()]
        self.run(root, "apply", "-auto-approve", "-no-color", "-parallelism=20", *flags)
        return len(self.run(root, "state", "list").stdout.split())

    def outputs(self, root: str) -> dict[str, Any]:
        raw = json.loads(self.run(root, "output", "-json").stdout)
        return {k: v["value"] for k, v in raw.items()}

    def plan_changes(self, root: str, variables: dict[str, str]) -> tuple[list[str], list[str]]:
        """(real changes, changes that are only attributes moto does not round-trip) of a new plan."""
        flags = [f"-var={k}={v}" for k, v in variables.items()]
        plan_file = self.work / f"{root}.tfplan"
        self.run(root, "plan", "-no-color", f"-out={plan_file}", *flags)
        plan = json.loads(self.run(root, "show", "-json", str(plan_file)).stdout)
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
                real.append(described)
        return real, emulator_only

    def destroy(self, root: str, variables: dict[str, str]) -> None:
        flags = [f"-var={k}={v}" for k, v in variables.items()]
        self.run(root, "destroy", "-auto-approve", "-no-color", "-parallelism=20", *flags)
        left = self.run(root, "state", "list").stdout.split()
        if left:
            raise StepFailed(f"terraform destroy {root}", f"{len(left)} resources left in state: {left[:3]}")


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
    creds = emulator.role_env(exec_role, "task-exec")
    ssm = boto3.client(
        "ssm",
        region_name=REGION,
        endpoint_url=emulator.url,
        verify=str(emulator.cert),
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
    )
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
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
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


def apply_prod(tf: Terraform) -> str:
    """prod beside dev in the same account; then unprotected, as an operator does before a teardown."""
    t0 = time.monotonic()
    count = tf.apply("prod", {})
    seconds = time.monotonic() - t0
    tf.apply("prod", UNPROTECTED)
    return f"{count} resources beside dev in the same account in {seconds:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Apply the Terraform to a local AWS (moto) and run the loop on it."
    )
    parser.add_argument(
        "--infra", type=Path, default=ROOT / "infra", help="the infra/ tree to apply (default: this repo's)"
    )
    parser.add_argument("--work", type=Path, default=ROOT / ".deploy-local", help="scratch folder (replaced)")
    parser.add_argument(
        "--loop-only", action="store_true", help="stop after the loop: no plan check, prod or destroy"
    )
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
        account = {"github_repository": "example-org/flightdelay", "ecr_force_delete": "true"}
        variables: dict[str, str] = {}  # the environments need no input

        step = "apply account and dev"
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            applying = [pool.submit(tf.apply, "account", account), pool.submit(tf.apply, "dev", variables)]
            count = sum(done.result() for done in applying)
        results["apply dev"] = f"{count} resources (account + dev) in {time.monotonic() - t0:.0f} s"
        say(f"apply dev: {results['apply dev']}")

        # prod is applied while the loop runs on dev: they share the account, not their state.
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            prod = None if args.loop_only else pool.submit(apply_prod, tf)
            step = "loop"
            run_loop(emulator, tf.outputs("dev"), args.work, results)
            if prod is None:
                return _done(results, started)

            step = "plan dev"
            changes, emulator_only = tf.plan_changes("dev", variables)
            if changes:
                raise StepFailed("plan dev", f"a second plan wants changes: {'; '.join(changes[:5])}")
            results["plan dev"] = (
                f"no changes after the loop ran (besides {len(emulator_only)} attributes moto does not "
                "store, infra/README.md)"
            )
            say(f"plan dev: {results['plan dev']}")

            step = "apply prod"
            results["apply prod"] = prod.result()
            say(f"apply prod: {results['apply prod']}")

            step = "destroy"
            t0 = time.monotonic()
            destroying = [
                pool.submit(tf.destroy, "prod", UNPROTECTED),
                pool.submit(tf.destroy, "dev", {}),
                pool.submit(tf.destroy, "account", account),  # the environments hold no reference to it
            ]
            for done in destroying:
                done.result()
        left = leftovers(emulator)
        if left:
            raise StepFailed("destroy", f"{len(left)} things left: {', '.join(left[:5])}")
        results["destroy"] = f"prod, dev and account destroyed, nothing left ({time.monotonic() - t0:.0f} s)"
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
        print(f"  {step:<11} {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
