#!/usr/bin/env python3
"""Roll one image tag out to one environment, or leave it as it was.

    python scripts/deploy.py --cluster flightdelay-dev --service flightdelay-dev-api \\
        --image-tag dev-3f2c1e0 --source-tag 3f2c1e0 \\
        --families api=flightdelay-dev-api,fetcher=flightdelay-dev-fetcher \\
        --schedules fetcher=flightdelay-dev-fetcher \\
        --smoke-url https://api.example.com --record-tag-parameter /flightdelay-dev/image-tag

The steps, each logged as one line on stderr:

1. read: the service's task definition, each family's latest ACTIVE revision (the base of its new
   revision, so a shape Terraform registered since the last deploy is picked up), each schedule;
2. tag images (with --source-tag): each ECR repository gets --image-tag on the image --source-tag
   names, the same digest. The ECR lifecycle never expires a tag starting with the environment's
   name (modules/ecr), so images.yml pushes the commit SHA and the deploy tags `<env>-<sha>`;
3. pin schedules: a schedule that targets its bare family (modules/scheduled-task does) would run
   the newest revision as soon as one is registered, so it is first pinned to the revision it runs;
4. register: one new revision per family, identical to the base but for the container's image,
   REGISTRY/KEY:TAG with --registry, else the same repository with the new tag (tags kept);
5. roll out: the API service is updated and polled until its PRIMARY deployment, the one this
   update started, is COMPLETED; FAILED, or another deployment becoming PRIMARY (the circuit
   breaker rolling back), is a failure; then the service and every running task of it must run
   the new revision;
6. smoke: scripts/smoke.py against --smoke-url (the API does not report its image, so the running
   revision is checked through ECS in step 5);
7. move schedules: each schedule, every field kept, targets its family's new revision;
8. record tag: --record-tag-parameter (SSM) gets the tag, which Terraform's own revisions read.

Any failure after step 3 begins restores what was changed: the service to the revision it ran
(then waits for that rollout), every moved schedule to the revision it ran before (pinned: after
this deploy the family's newest revision is the failed image). Revisions and image tags are not
undone: they change nothing that runs. On success a JSON summary goes to stdout.

Exit codes:
    0  deployed; the JSON summary is on stdout
    1  failed; everything changed was restored (or nothing had changed), one line on stderr:
       "deploy: failed at <step>: <reason>; restored <what>"
    2  bad arguments (one line on stderr); nothing was read or changed
    3  failed, and restoring failed too: the line says what was and what was not restored

Errors (the one line and the exit code are derived from them):

    DeployError
    ├── BadArguments      exit 2
    ├── StepFailed        a step failed (internal: caught, restored, re-raised as one below)
    │   └── RolloutTimedOut
    ├── Failed            exit 1, after the restore
    └── RestoreFailed     exit 3

AWS credentials and region come from the environment as for any boto3 program (AWS_ENDPOINT_URL
points every client at a moto server); nothing here prints them.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a bare checkout: no install needed
from scripts.smoke import smoke as smoke_test

Log = Callable[[str], None]
Smoke = Callable[[str, float], list[str]]

TAG = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
# What DescribeTaskDefinition returns and RegisterTaskDefinition does not take.
READ_ONLY = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
    }
)
# UpdateSchedule replaces the whole schedule: every field GetSchedule gives back and UpdateSchedule
# takes, or the update would reset it (KmsKeyArn included).
SCHEDULE_FIELDS = (
    "Name",
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "State",
    "Description",
    "StartDate",
    "EndDate",
    "ActionAfterCompletion",
    "KmsKeyArn",
)
MANIFEST_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]


class DeployError(Exception):
    """Base of every error this script raises on purpose."""


class BadArguments(DeployError):
    """The command line cannot describe a deploy; nothing was read."""


class StepFailed(DeployError):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


class RolloutTimedOut(StepFailed):
    """A rollout neither completed nor failed within --timeout."""


class Failed(DeployError):
    """The deploy failed; what it changed is restored."""

    def __init__(self, step: str, reason: str, *, restored: str) -> None:
        super().__init__(f"failed at {step}: {reason}; restored {restored}")


class RestoreFailed(DeployError):
    """The deploy failed and so did part of the restore."""

    def __init__(self, step: str, reason: str, *, restored: str, not_restored: str) -> None:
        super().__init__(
            f"failed at {step}: {reason}; restore FAILED for {not_restored}; restored {restored}"
        )


@dataclass(frozen=True)
class Clients:
    """The AWS clients the deploy uses (tests pass moto-backed or wrapped ones)."""

    ecs: Any
    scheduler: Any
    ssm: Any = None
    ecr: Any = None


@dataclass(frozen=True)
class Request:
    cluster: str
    service: str
    image_tag: str
    families: dict[str, str]  # key (api, fetcher, ...) → task definition family
    schedules: dict[str, tuple[str, str]]  # key → (schedule group, schedule name)
    registry: str | None = None
    source_tag: str | None = None
    smoke_url: str | None = None
    smoke_timeout: float = 180.0
    timeout: float = 900.0
    poll_seconds: float = 10.0
    tag_parameter: str | None = None


@dataclass
class _Family:
    key: str
    family: str
    base: dict[str, Any]  # the latest ACTIVE revision, as described
    tags: list[dict[str, str]]
    image: str  # the new image
    new_arn: str | None = None


@dataclass
class _Schedule:
    key: str
    group: str
    name: str
    snapshot: dict[str, Any]  # as GetSchedule gave it
    previous: str  # the revision it runs (pinned form)


@dataclass
class _Undo:
    service_previous: str | None = None  # set once the service was updated
    moved: list[_Schedule] = field(default_factory=list)


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())  # one line, whatever the SDK put in it


def _family_of(task_definition_arn: str) -> tuple[str, int | None]:
    """`arn:…:task-definition/FAMILY[:REVISION]` (or FAMILY[:REVISION]) → (family, revision)."""
    name = task_definition_arn.rsplit("/", 1)[-1]
    family, _, revision = name.partition(":")
    return family, int(revision) if revision.isdigit() else None


def _repository(image: str) -> str:
    """The image without its tag or digest (a registry port is not a tag)."""
    image = image.split("@", 1)[0]
    name, sep, tag = image.rpartition(":")
    return name if sep and "/" not in tag else image


class _Deploy:
    def __init__(self, request: Request, clients: Clients, *, smoke: Smoke, log: Log) -> None:
        self.r = request
        self.c = clients
        self.smoke = smoke
        self.log = log
        self.families: dict[str, _Family] = {}
        self.schedules: list[_Schedule] = []
        self.service_previous = ""
        self.undo = _Undo()

    # --- 1. read ---------------------------------------------------------------------------------
    def read(self) -> None:
        service = self._describe_service()
        self.service_previous = service["taskDefinition"]
        running_family, _ = _family_of(self.service_previous)
        if running_family != self.r.families["api"]:
            raise StepFailed(
                "read", f"service {self.r.service} runs family {running_family}, not {self.r.families['api']}"
            )
        for key, family in self.r.families.items():
            described = self.c.ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
            base = described["taskDefinition"]
            containers = base["containerDefinitions"]
            if len(containers) != 1:
                raise StepFailed(
                    "read", f"{family} has {len(containers)} containers; the deploy changes exactly one"
                )
            repository = (
                f"{self.r.registry.rstrip('/')}/{key}"
                if self.r.registry
                else _repository(containers[0]["image"])
            )
            self.families[key] = _Family(
                key, family, base, described.get("tags") or [], f"{repository}:{self.r.image_tag}"
            )
        for key, (group, name) in self.r.schedules.items():
            snapshot = self.c.scheduler.get_schedule(GroupName=group, Name=name)
            target = snapshot["Target"].get("EcsParameters", {}).get("TaskDefinitionArn")
            if not target:
                raise StepFailed("read", f"schedule {name} has no ECS target")
            family, revision = _family_of(target)
            if family != self.r.families[key]:
                raise StepFailed("read", f"schedule {name} runs family {family}, not {self.r.families[key]}")
            # A bare family runs its latest ACTIVE revision: the one just described.
            previous = target if revision is not None else self.families[key].base["taskDefinitionArn"]
            self.schedules.append(_Schedule(key, group, name, snapshot, previous))
        self.log(
            f"read: service {self.r.service} runs {self.service_previous}; "
            + ", ".join(f"{s.name} runs {s.previous}" for s in self.schedules)
        )

    def _describe_service(self, step: str = "read") -> dict[str, Any]:
        answer = self.c.ecs.describe_services(cluster=self.r.cluster, services=[self.r.service])
        services = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
        if not services:
            raise StepFailed(step, f"no ACTIVE service {self.r.service} in cluster {self.r.cluster}")
        service: dict[str, Any] = services[0]
        return service

    # --- 2. tag images ---------------------------------------------------------------------------
    def tag_images(self) -> None:
        if self.r.source_tag is None:
            return
        done: set[str] = set()
        for f in self.families.values():
            repository = _repository(f.image)
            if repository in done:
                continue
            done.add(repository)
            host, _, name = repository.partition("/")
            match = ECR_HOST.match(host)
            if match is None:
                raise StepFailed(
                    "tag images", f"{repository} is not an ECR repository; --source-tag needs ECR"
                )
            self._tag(match.group(1), name, self.r.source_tag, self.r.image_tag)
        self.log(f"tag images: {len(done)} repositories tag {self.r.image_tag} = {self.r.source_tag}")

    def _tag(self, registry_id: str, repository: str, source: str, tag: str) -> None:
        ecr = self.c.ecr
        found = ecr.batch_get_image(
            registryId=registry_id,
            repositoryName=repository,
            imageIds=[{"imageTag": source}],
            acceptedMediaTypes=MANIFEST_TYPES,
        )
        if not found.get("images"):
            raise StepFailed("tag images", f"no image {repository}:{source}")
        image = found["images"][0]
        try:
            ecr.put_image(
                registryId=registry_id,
                repositoryName=repository,
                imageManifest=image["imageManifest"],
                imageManifestMediaType=image["imageManifestMediaType"],
                imageTag=tag,
            )
        except (ecr.exceptions.ImageAlreadyExistsException, ecr.exceptions.ImageTagAlreadyExistsException):
            # Tags are immutable: an earlier deploy of the same commit is fine, another image is not.
            details = ecr.describe_images(
                registryId=registry_id, repositoryName=repository, imageIds=[{"imageTag": tag}]
            )["imageDetails"]
            if details[0]["imageDigest"] != image["imageId"]["imageDigest"]:
                raise StepFailed(
                    "tag images", f"{repository}:{tag} already names another image than {source}"
                ) from None

    # --- 3. pin schedules ------------------------------------------------------------------------
    def pin_schedules(self) -> None:
        for s in self.schedules:
            if s.snapshot["Target"]["EcsParameters"]["TaskDefinitionArn"] != s.previous:
                self._point(s, s.previous)
                self.log(f"pin schedules: {s.name} pinned to {s.previous}, the revision it ran")

    # --- 4. register -----------------------------------------------------------------------------
    def register(self) -> None:
        accepted = self.c.ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
        for f in self.families.values():
            definition = {k: v for k, v in f.base.items() if k in accepted and k not in READ_ONLY}
            definition = copy.deepcopy(definition)
            definition["containerDefinitions"][0]["image"] = f.image
            if f.tags:
                definition["tags"] = f.tags
            f.new_arn = self.c.ecs.register_task_definition(**definition)["taskDefinition"][
                "taskDefinitionArn"
            ]
            self.log(f"register: {f.new_arn} runs {f.image}")

    def new(self, key: str) -> str:
        arn = self.families[key].new_arn
        assert arn is not None  # registered before anything uses it
        return arn

    # --- 5. roll out -----------------------------------------------------------------------------
    def roll_out(self) -> None:
        new = self.new("api")
        self.undo.service_previous = self.service_previous
        answer = self.c.ecs.update_service(cluster=self.r.cluster, service=self.r.service, taskDefinition=new)
        primary = _primary(answer["service"])
        if primary is None or primary.get("taskDefinition") != new:
            raise StepFailed(
                "roll out",
                f"update_service started no deployment of {new} "
                f"(PRIMARY runs {primary and primary.get('taskDefinition')})",
            )
        deployment = primary["id"]
        self.log(f"roll out: service {self.r.service} deploying {new} ({deployment})")
        self._wait(deployment, new, step="roll out")
        self.log(f"roll out: service {self.r.service} COMPLETED on {new}; its running tasks run it")

    def _wait(self, deployment: str, task_definition: str, *, step: str) -> None:
        """Until the deployment is PRIMARY, COMPLETED and the only one running tasks, bounded."""
        deadline = time.monotonic() + self.r.timeout
        state = "no answer yet"
        while time.monotonic() < deadline:
            service = self._describe_service(step)
            ours = next((d for d in service.get("deployments", []) if d.get("id") == deployment), None)
            primary = _primary(service)
            if ours is not None and ours.get("rolloutState") == "FAILED":
                raise StepFailed(
                    step, f"deployment of {task_definition} FAILED: {ours.get('rolloutStateReason')}"
                )
            if primary is None or primary.get("id") != deployment:
                running = primary.get("taskDefinition") if primary else None
                raise StepFailed(
                    step, f"deployment of {task_definition} is no longer PRIMARY (rolled back to {running})"
                )
            rollout = primary.get("rolloutState")
            # Without rolloutState (a service that reports none), ECS's own "services-stable" test.
            completed = rollout == "COMPLETED" or (
                rollout is None
                and len(service.get("deployments", [])) == 1
                and primary.get("runningCount") == primary.get("desiredCount")
            )
            state = f"{rollout}, {primary.get('runningCount')}/{primary.get('desiredCount')} running"
            if completed:
                if service.get("taskDefinition") != task_definition:
                    raise StepFailed(
                        step, f"service runs {service.get('taskDefinition')}, not {task_definition}"
                    )
                stale = self._tasks_not_running(task_definition)
                if not stale:
                    return
                state = f"COMPLETED, but tasks still run {', '.join(sorted(stale))}"
            time.sleep(self.r.poll_seconds)
        raise RolloutTimedOut(
            step, f"deployment of {task_definition} not done after {self.r.timeout:.0f} s ({state})"
        )

    def _tasks_not_running(self, task_definition: str) -> set[str]:
        """The other revisions that tasks of the service still run."""
        arns: list[str] = []
        paginator = self.c.ecs.get_paginator("list_tasks")
        for page in paginator.paginate(
            cluster=self.r.cluster, serviceName=self.r.service, desiredStatus="RUNNING"
        ):
            arns.extend(page.get("taskArns", []))
        others: set[str] = set()
        for start in range(0, len(arns), 100):
            tasks = self.c.ecs.describe_tasks(cluster=self.r.cluster, tasks=arns[start : start + 100])[
                "tasks"
            ]
            for task in tasks:
                if (
                    task.get("group") == f"service:{self.r.service}"
                    and task["taskDefinitionArn"] != task_definition
                ):
                    others.add(task["taskDefinitionArn"])
        return others

    # --- 6. smoke --------------------------------------------------------------------------------
    def smoke_check(self) -> None:
        if not self.r.smoke_url:
            return
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON summary only
            failures = self.smoke(self.r.smoke_url, self.r.smoke_timeout)
        if failures:
            raise StepFailed("smoke", "; ".join(failures))
        self.log(f"smoke: {self.r.smoke_url} passes")

    # --- 7. move schedules -----------------------------------------------------------------------
    def move_schedules(self) -> None:
        for s in self.schedules:
            self.undo.moved.append(s)
            self._point(s, self.new(s.key))
            self.log(f"move schedules: {s.name} runs {self.new(s.key)}")

    def _point(self, s: _Schedule, task_definition: str) -> None:
        update = {k: copy.deepcopy(s.snapshot[k]) for k in SCHEDULE_FIELDS if s.snapshot.get(k) is not None}
        update["Target"]["EcsParameters"]["TaskDefinitionArn"] = task_definition
        self.c.scheduler.update_schedule(**update)

    # --- 8. record tag ---------------------------------------------------------------------------
    def record_tag(self) -> None:
        if not self.r.tag_parameter:
            return
        self.c.ssm.put_parameter(
            Name=self.r.tag_parameter, Value=self.r.image_tag, Type="String", Overwrite=True
        )
        self.log(f"record tag: {self.r.tag_parameter} = {self.r.image_tag}")

    # --- restore ---------------------------------------------------------------------------------
    def restore(self) -> tuple[list[str], list[str]]:
        """(what was restored, what could not be), as phrases."""
        restored: list[str] = []
        failed: list[str] = []
        for s in reversed(self.undo.moved):
            try:
                # A move that failed may or may not have been applied: look before restoring.
                now = self.c.scheduler.get_schedule(GroupName=s.group, Name=s.name)
                if now["Target"]["EcsParameters"]["TaskDefinitionArn"] == s.previous:
                    continue
                self._point(s, s.previous)
                restored.append(f"schedule {s.name} to {s.previous}")
            except Exception as exc:
                failed.append(f"schedule {s.name} ({_error_text(exc)})")
        if self.undo.service_previous is not None:
            what = f"service {self.r.service} to {self.undo.service_previous}"
            try:
                note = self._restore_service(self.undo.service_previous)
                restored.append(what + note)
            except Exception as exc:
                failed.append(f"{what} ({_error_text(exc)})")
        return restored, failed

    def _restore_service(self, previous: str) -> str:
        service = self._describe_service("restore")
        if service.get("taskDefinition") != previous:
            service = self.c.ecs.update_service(
                cluster=self.r.cluster, service=self.r.service, taskDefinition=previous
            )["service"]
        primary = _primary(service)
        if primary is None or primary.get("taskDefinition") != previous:
            raise StepFailed("restore", f"no deployment of {previous} started")
        try:
            self._wait(primary["id"], previous, step="restore")
        except RolloutTimedOut:
            return f" (its rollout still in progress after {self.r.timeout:.0f} s)"
        return ""

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "image_tag": self.r.image_tag,
            "service": {"name": self.r.service, "previous": self.service_previous, "now": self.new("api")},
            "families": {key: self.new(key) for key in self.families},
            "schedules_moved": {
                s.name: {"previous": s.previous, "now": self.new(s.key)} for s in self.schedules
            },
            "image_tag_parameter": self.r.tag_parameter,
            "seconds": round(seconds, 1),
        }


def _primary(service: dict[str, Any]) -> dict[str, Any] | None:
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)


def deploy(
    request: Request, clients: Clients, *, smoke: Smoke = smoke_test, log: Log | None = None
) -> dict[str, Any]:
    """Run the steps; the JSON summary on success, Failed or RestoreFailed otherwise."""
    say: Log = log or (lambda line: print(f"deploy: {line}", file=sys.stderr))
    started = time.monotonic()
    run = _Deploy(request, clients, smoke=smoke, log=say)
    step = "read"
    steps: list[tuple[str, Callable[[], None]]] = [
        ("read", run.read),
        ("tag images", run.tag_images),
        ("pin schedules", run.pin_schedules),
        ("register", run.register),
        ("roll out", run.roll_out),
        ("smoke", run.smoke_check),
        ("move schedules", run.move_schedules),
        ("record tag", run.record_tag),
    ]
    try:
        for name, action in steps:
            step = name  # the step a non-StepFailed error (an AWS call's) belongs to
            action()
    except (Exception, KeyboardInterrupt) as exc:  # whatever stops the deploy, what it changed goes back
        reason = exc.reason if isinstance(exc, StepFailed) else _error_text(exc)
        step = exc.step if isinstance(exc, StepFailed) else step
        restored, failed = run.restore()
        done = ", ".join(restored) or "nothing (nothing that runs had changed)"
        if failed:
            raise RestoreFailed(step, reason, restored=done, not_restored=", ".join(failed)) from exc
        raise Failed(step, reason, restored=done) from exc
    return run.summary(time.monotonic() - started)


# --- command line -----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BadArguments(message)


def _pairs(text: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise BadArguments(f"--{what}: {item!r} is not KEY=VALUE")
        if key in out:
            raise BadArguments(f"--{what}: {key} given twice")
        out[key] = value
    return out


def parse(argv: Sequence[str] | None) -> Request:
    parser = _Parser(prog="deploy.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--service", required=True, help="the API's ECS service")
    parser.add_argument("--image-tag", required=True, help="the tag the environment runs, e.g. dev-<sha>")
    parser.add_argument(
        "--source-tag", help="tag --image-tag on the ECR image this tag names (the commit SHA)"
    )
    parser.add_argument(
        "--families", required=True, help="api=FAMILY,fetcher=FAMILY,... (api is the service's)"
    )
    parser.add_argument("--schedules", default="", help="fetcher=SCHEDULE,... or KEY=GROUP/SCHEDULE")
    parser.add_argument("--registry", help="image repository prefix: images become REGISTRY/KEY:TAG")
    parser.add_argument("--smoke-url", help="base URL of the API for scripts/smoke.py")
    parser.add_argument(
        "--smoke-timeout", type=float, default=180.0, help="seconds smoke.py waits for /ready"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each rollout")
    parser.add_argument("--poll-seconds", type=float, default=10.0, help="between two looks at the rollout")
    parser.add_argument(
        "--record-tag-parameter", help="SSM parameter that records the tag the environment runs"
    )
    args = parser.parse_args(argv)

    for name in ("image_tag", "source_tag"):
        value = getattr(args, name)
        if value is not None and not TAG.match(value):
            raise BadArguments(f"--{name.replace('_', '-')}: {value!r} is not an image tag")
    for name in ("timeout", "smoke_timeout", "poll_seconds"):
        if not getattr(args, name) > 0:
            raise BadArguments(f"--{name.replace('_', '-')} must be positive")
    families = _pairs(args.families, "families")
    if "api" not in families:
        raise BadArguments("--families: no api=FAMILY (the service's family)")
    for family in families.values():
        if not NAME.match(family):
            raise BadArguments(f"--families: {family!r} is not a task definition family")
    schedules: dict[str, tuple[str, str]] = {}
    for key, ref in _pairs(args.schedules, "schedules").items():
        group, _, name = ref.rpartition("/")
        if key not in families or key == "api":
            raise BadArguments(f"--schedules: {key} is not a scheduled family of --families")
        if not NAME.match(name) or (group and not NAME.match(group)):
            raise BadArguments(f"--schedules: {ref!r} is not a schedule name")
        schedules[key] = (group or "default", name)
    unmoved = sorted(set(families) - set(schedules) - {"api"})
    if unmoved:
        raise BadArguments(
            f"--schedules: no schedule for {', '.join(unmoved)} (its new revision would run nowhere)"
        )
    return Request(
        cluster=args.cluster,
        service=args.service,
        image_tag=args.image_tag,
        families=families,
        schedules=schedules,
        registry=args.registry,
        source_tag=args.source_tag,
        smoke_url=args.smoke_url,
        smoke_timeout=args.smoke_timeout,
        timeout=args.timeout,
        poll_seconds=args.poll_seconds,
        tag_parameter=args.record_tag_parameter,
    )


def clients_from_environment() -> Clients:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 8})  # throttling while polling
    session = boto3.session.Session()
    return Clients(
        ecs=session.client("ecs", config=config),
        scheduler=session.client("scheduler", config=config),
        ssm=session.client("ssm", config=config),
        ecr=session.client("ecr", config=config),
    )


def _terminated(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt(f"stopped by signal {signum}")  # a cancelled job restores what it changed


def main(argv: Sequence[str] | None = None, clients: Clients | None = None, smoke: Smoke = smoke_test) -> int:
    try:
        request = parse(argv)
        summary = deploy(request, clients or clients_from_environment(), smoke=smoke)
    except BadArguments as exc:
        print(f"deploy: bad arguments: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    except RestoreFailed as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main())
