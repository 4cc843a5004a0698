"""scripts/deploy.py against a moto server (ECS, EventBridge Scheduler, SSM, ECR) and the real API as
its smoke target: a deploy either runs the new image everywhere or leaves everything as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from flightdelay.config import get_settings
from infra.local.ecs_rollouts import Rollouts
from scripts.deploy import Clients, main
from services.api.app import create_app
from services.api.server import RunningServer

SCRIPT = Path(__file__).parents[2] / "scripts" / "deploy.py"
ACCOUNT = "123456789012"
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SCHEDULED = ("fetcher", "conditions")


@pytest.fixture
def rollouts(monkeypatch: pytest.MonkeyPatch) -> Rollouts:
    engine = Rollouts()
    engine.install(monkeypatch.setattr)
    return engine


# --- one environment on the moto server --------------------------------------------------------------


@dataclass
class Env:
    uid: str
    cluster: str
    service: str
    families: dict[str, str]  # key → family
    schedules: dict[str, str]  # key → schedule name
    parameter: str
    clients: Clients

    def revision(self, key: str, number: int) -> str:
        return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{self.families[key]}:{number}"

    def argv(self, *extra: str, tag: str = "dev-abc123") -> list[str]:
        return [
            "--cluster", self.cluster,
            "--service", self.service,
            "--image-tag", tag,
            "--families", ",".join(f"{k}={f}" for k, f in self.families.items()),
            "--schedules", ",".join(f"{k}={s}" for k, s in self.schedules.items()),
            "--record-tag-parameter", self.parameter,
            "--timeout", "30",
            "--poll-seconds", "0.02",
            "--smoke-timeout", "0.5",
            *extra,
        ]  # fmt: skip

    def service_now(self) -> dict[str, Any]:
        answer = self.clients.ecs.describe_services(cluster=self.cluster, services=[self.service])
        service: dict[str, Any] = answer["services"][0]
        return service

    def schedule_target(self, key: str) -> str:
        schedule = self.clients.scheduler.get_schedule(Name=self.schedules[key])
        return str(schedule["Target"]["EcsParameters"]["TaskDefinitionArn"])

    def running(self) -> set[str]:
        arns = self.clients.ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"]
        tasks = self.clients.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"] if arns else []
        return {t["taskDefinitionArn"] for t in tasks}


def aws(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def env(moto_endpoint: str, rollouts: Rollouts) -> Env:
    """A cluster, the API service on revision 1 with one running task (circuit breaker on), and two
    schedules as modules/scheduled-task makes them: the fetcher's targets its bare family, the
    conditions' a pinned revision."""
    uid = uuid.uuid4().hex[:8]
    ecs, scheduler, ssm = (
        aws("ecs", moto_endpoint),
        aws("scheduler", moto_endpoint),
        aws("ssm", moto_endpoint),
    )
    ec2 = aws("ec2", moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's tasks name their ENI
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"t{uid}-api", Description="the API", VpcId=vpc)["GroupId"]
    network = {
        "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}
    }
    cluster = f"c-{uid}"
    ecs.create_cluster(clusterName=cluster)
    families = {key: f"t{uid}-{key}" for key in ("api", *SCHEDULED)}
    for key, family in families.items():
        ecs.register_task_definition(
            family=family,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/t{uid}-exec",
            taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/t{uid}-{key}",
            runtimePlatform={"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
            containerDefinitions=[
                {
                    "name": "api" if key == "api" else "task",
                    "image": f"{REGISTRY}/t{uid}/{key}:bootstrap",
                    "essential": True,
                    "memory": 512,
                    "readonlyRootFilesystem": True,
                    "user": "10001",
                    "environment": [{"name": "FLIGHTDELAY_AWS_REGION", "value": REGION}],
                }
            ],
            tags=[{"key": "environment", "value": "dev"}],
        )
    service = f"t{uid}-api"
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=families["api"],
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    ecs.run_task(
        cluster=cluster,
        taskDefinition=f"{families['api']}:1",
        launchType="FARGATE",
        networkConfiguration=network,
        group=f"service:{service}",
    )
    schedules = {key: f"t{uid}-{key}" for key in SCHEDULED}
    for key, name in schedules.items():
        family_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{families[key]}"
        scheduler.create_schedule(
            Name=name,
            ScheduleExpression="cron(15 * * * ? *)",
            ScheduleExpressionTimezone="Europe/Paris",
            Description=f"the {key}",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/t{uid}-{key}-sched",
                "EcsParameters": {
                    "TaskDefinitionArn": family_arn if key == "fetcher" else f"{family_arn}:1",
                    "LaunchType": "FARGATE",
                    "TaskCount": 1,
                    "NetworkConfiguration": {
                        "awsvpcConfiguration": {"Subnets": [subnet], "AssignPublicIp": "DISABLED"}
                    },
                },
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:t{uid}-{key}-dlq"},
            },
        )
    parameter = f"/t{uid}/image-tag"
    ssm.put_parameter(Name=parameter, Value="bootstrap", Type="String")
    return Env(
        uid=uid,
        cluster=cluster,
        service=service,
        families=families,
        schedules=schedules,
        parameter=parameter,
        clients=Clients(ecs=ecs, scheduler=scheduler, ssm=ssm, ecr=aws("ecr", moto_endpoint)),
    )


@pytest.fixture(scope="module")
def healthy_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real API before any promotion: smoke.py passes it on /health alone."""
    models = tmp_path_factory.mktemp("models-none")
    with RunningServer(create_app(get_settings(models_url=str(models)))) as server:
        yield server.url


@pytest.fixture(scope="module")
def broken_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real API with a promoted model it cannot load: smoke.py fails it."""
    models = tmp_path_factory.mktemp("models-broken")
    (models / "latest.txt").write_text("prod/20131201T000000Z-deadbeef/model.skops")
    with RunningServer(create_app(get_settings(models_url=str(models)))) as server:
        yield server.url


def failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("deploy: failed at ")]


class FailingScheduler:
    """The real scheduler client, with UpdateSchedule failing as `fails` decides (AccessDenied)."""

    def __init__(self, real: Any, fails: Callable[[dict[str, Any]], bool]) -> None:
        self._real = real
        self._fails = fails

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def update_schedule(self, **request: Any) -> Any:
        if self._fails(request):
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
            raise ClientError(error, "UpdateSchedule")
        return self._real.update_schedule(**request)


# --- the behaviours ------------------------------------------------------------------------------------


def test_a_deploy_runs_the_new_image_everywhere_and_prints_a_summary(
    env: Env, moto_endpoint: str, healthy_api: str
) -> None:
    before = {
        key: env.clients.ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
        for key, family in env.families.items()
    }
    schedules_before = {
        key: env.clients.scheduler.get_schedule(Name=name) for key, name in env.schedules.items()
    }
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *env.argv("--smoke-url", healthy_api)],
        env={**os.environ, "AWS_ENDPOINT_URL": moto_endpoint},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["families"] == {key: env.revision(key, 2) for key in env.families}
    assert set(summary["schedules_moved"]) == set(env.schedules.values())
    assert summary["seconds"] >= 0
    for key, family in env.families.items():
        new = env.clients.ecs.describe_task_definition(taskDefinition=env.revision(key, 2), include=["TAGS"])
        old = before[key]["taskDefinition"]
        assert (
            new["taskDefinition"]["containerDefinitions"][0]["image"]
            == f"{REGISTRY}/t{env.uid}/{key}:dev-abc123"
        )
        assert new["tags"] == before[key]["tags"]
        for name in ("cpu", "memory", "taskRoleArn", "executionRoleArn", "networkMode", "runtimePlatform"):
            assert new["taskDefinition"][name] == old[name], (family, name)
        unchanged = {k: v for k, v in old["containerDefinitions"][0].items() if k != "image"}
        assert {
            k: v for k, v in new["taskDefinition"]["containerDefinitions"][0].items() if k != "image"
        } == unchanged
    service = env.service_now()
    assert service["taskDefinition"] == env.revision("api", 2)
    assert env.running() == {env.revision("api", 2)}
    for key, name in env.schedules.items():
        now = env.clients.scheduler.get_schedule(Name=name)
        assert now["Target"]["EcsParameters"]["TaskDefinitionArn"] == env.revision(key, 2)
        was = schedules_before[key]
        for field in (
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "Description",
            "State",
            "FlexibleTimeWindow",
        ):
            assert now[field] == was[field], (name, field)
        assert {k: v for k, v in now["Target"].items() if k != "EcsParameters"} == {
            k: v for k, v in was["Target"].items() if k != "EcsParameters"
        }
    parameter = env.clients.ssm.get_parameter(Name=env.parameter)["Parameter"]["Value"]
    assert parameter == "dev-abc123"


def test_a_rollout_the_circuit_breaker_rolls_back_exits_1_with_everything_on_the_old_revisions(
    env: Env, rollouts: Rollouts, healthy_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rollouts.trip_circuit_breaker = True
    code = main(env.argv("--smoke-url", healthy_api), clients=env.clients)
    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    [line] = failure_lines(err)
    assert line.startswith("deploy: failed at roll out: ")
    assert "FAILED" in line
    assert env.service_now()["taskDefinition"] == env.revision("api", 1)
    assert env.running() == {env.revision("api", 1)}
    assert {key: env.schedule_target(key) for key in SCHEDULED} == {k: env.revision(k, 1) for k in SCHEDULED}
    assert env.clients.ssm.get_parameter(Name=env.parameter)["Parameter"]["Value"] == "bootstrap"


def test_a_failed_smoke_test_puts_the_service_back_and_never_gives_a_schedule_the_new_image(
    env: Env, rollouts: Rollouts, broken_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    targets: list[tuple[str, int]] = []  # each update's target, and its family's newest revision then

    def record(request: dict[str, Any]) -> bool:
        target = request["Target"]["EcsParameters"]["TaskDefinitionArn"]
        newest = env.clients.ecs.describe_task_definition(taskDefinition=target.rsplit(":", 1)[0])
        targets.append((target, newest["taskDefinition"]["revision"]))
        return False

    clients = Clients(
        ecs=env.clients.ecs, scheduler=FailingScheduler(env.clients.scheduler, record), ssm=env.clients.ssm
    )
    code = main(env.argv("--smoke-url", broken_api), clients=clients)
    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    [line] = failure_lines(err)
    assert line.startswith("deploy: failed at smoke: /ready answered 503")
    assert f"restored service {env.service} to {env.revision('api', 1)}" in line
    service = env.service_now()
    assert service["taskDefinition"] == env.revision("api", 1)
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert env.running() == {env.revision("api", 1)}
    # The fetcher's schedule targeted its bare family, whose newest revision is now the failed
    # image: it was pinned to the revision it ran before anything was registered, and stays so.
    assert targets == [(env.revision("fetcher", 1), 1)]
    assert {key: env.schedule_target(key) for key in SCHEDULED} == {k: env.revision(k, 1) for k in SCHEDULED}


def test_a_failure_moving_the_second_schedule_restores_the_first_and_the_service(
    env: Env, rollouts: Rollouts, healthy_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    second = env.schedules["conditions"]
    clients = Clients(
        ecs=env.clients.ecs,
        scheduler=FailingScheduler(
            env.clients.scheduler,
            lambda r: (
                r["Name"] == second and r["Target"]["EcsParameters"]["TaskDefinitionArn"].endswith(":2")
            ),
        ),
        ssm=env.clients.ssm,
    )
    code = main(env.argv("--smoke-url", healthy_api), clients=clients)
    _, err = capsys.readouterr()
    assert code == 1, err
    [line] = failure_lines(err)
    assert line.startswith("deploy: failed at move schedules: ")
    assert "AccessDeniedException" in line
    assert f"schedule {env.schedules['fetcher']} to {env.revision('fetcher', 1)}" in line
    assert {key: env.schedule_target(key) for key in SCHEDULED} == {k: env.revision(k, 1) for k in SCHEDULED}
    assert env.service_now()["taskDefinition"] == env.revision("api", 1)
    assert env.running() == {env.revision("api", 1)}


def test_a_restore_that_fails_too_exits_3_naming_what_is_not_restored(
    env: Env, rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    moved: list[str] = []

    def scheduler_goes_down_after_the_first_move(request: dict[str, Any]) -> bool:
        if moved:
            return True
        if request["Target"]["EcsParameters"]["TaskDefinitionArn"].endswith(":2"):
            moved.append(request["Name"])
        return False

    clients = Clients(
        ecs=env.clients.ecs,
        scheduler=FailingScheduler(env.clients.scheduler, scheduler_goes_down_after_the_first_move),
        ssm=env.clients.ssm,
    )
    code = main(env.argv(), clients=clients)
    _, err = capsys.readouterr()
    assert code == 3, err
    [line] = failure_lines(err)
    assert line.startswith("deploy: failed at move schedules: ")
    assert f"restore FAILED for schedule {env.schedules['fetcher']} (" in line
    assert line.endswith(f"restored service {env.service} to {env.revision('api', 1)}")
    assert env.schedule_target("fetcher") == env.revision("fetcher", 2)  # what the line warns about
    assert env.service_now()["taskDefinition"] == env.revision("api", 1)


def test_a_rollout_that_does_not_complete_in_time_is_undone(
    env: Env, rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    rollouts.stuck = True
    code = main([*env.argv(), "--timeout", "0.3"], clients=env.clients)
    _, err = capsys.readouterr()
    assert code == 1, err
    [line] = failure_lines(err)
    assert line.startswith("deploy: failed at roll out: deployment of ")
    assert "not done after" in line
    assert env.service_now()["taskDefinition"] == env.revision("api", 1)
    assert {key: env.schedule_target(key) for key in SCHEDULED} == {k: env.revision(k, 1) for k in SCHEDULED}


def test_with_a_source_tag_every_repository_tags_that_image_for_the_environment(
    env: Env, rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    ecr = env.clients.ecr
    digests = {}
    for key in env.families:
        repository = f"t{env.uid}/{key}"
        ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [],
            "k": key,
        }
        pushed = ecr.put_image(
            repositoryName=repository,
            imageManifest=json.dumps(manifest),
            imageManifestMediaType="application/vnd.oci.image.index.v1+json",
            imageTag="abc123",
        )
        digests[key] = pushed["image"]["imageId"]["imageDigest"]
    code = main([*env.argv(), "--source-tag", "abc123"], clients=env.clients)
    _, err = capsys.readouterr()
    assert code == 0, err
    for key in env.families:
        [image] = ecr.describe_images(
            repositoryName=f"t{env.uid}/{key}", imageIds=[{"imageTag": "dev-abc123"}]
        )["imageDetails"]
        assert image["imageDigest"] == digests[key]


@pytest.mark.parametrize(
    "change",
    [
        {"--families": "fetcher=f"},  # no api family
        {"--families": "api:f"},  # not KEY=VALUE
        {"--schedules": "training=t"},  # a schedule of no family
        {"--image-tag": "dev abc"},  # not a tag
        {"--timeout": "0"},
        {"--cluster": None},  # missing
    ],
    ids=["no-api", "not-pairs", "unknown-schedule", "bad-tag", "zero-timeout", "no-cluster"],
)
def test_bad_arguments_exit_2_with_one_line(
    change: dict[str, str | None], capsys: pytest.CaptureFixture[str]
) -> None:
    args = {
        "--cluster": "c",
        "--service": "s",
        "--image-tag": "dev-abc",
        "--families": "api=a,fetcher=f",
        "--schedules": "fetcher=f",
    } | change
    argv = [part for name, value in args.items() if value is not None for part in (name, value)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("deploy: bad arguments: ")
