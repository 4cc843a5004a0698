"""ECS rollouts on moto, which models none: the stand-in for ECS's deployment engine.

moto 5.2's UpdateService changes the service's task definition but starts no deployment and no
task: its PRIMARY deployment runs the first revision forever, which any honest deploy script must
call a rollback. Installed into moto's ECS backend (by tests/integration/test_deploy_script.py in
process, by infra/local/moto_local.py in the deploy-local server), ECS behaves as AWS documents it:
an update to another revision starts a PRIMARY deployment IN_PROGRESS (the old one becomes ACTIVE);
the second DescribeServices that sees it ends it: COMPLETED with the service's tasks replaced, or,
when `fails` says the new tasks cannot start, FAILED and rolled back by the circuit breaker (a new
PRIMARY deployment of the previous revision, which completes). `stuck` leaves every rollout
IN_PROGRESS. As in ECS, a task that stops releases its network interface and deleting a service
stops its tasks (moto keeps both, so a subnet that held a task could never be deleted).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ecs.models import EC2ContainerServiceBackend

Setter = Callable[[Any, str, Any], None]  # setattr, or pytest's monkeypatch.setattr
# (the ECS backend, the service, its new task definition ARN) → do the new tasks fail to start?
FailurePolicy = Callable[[Any, Any, str], bool]


class Rollouts:
    def __init__(self, fails: FailurePolicy | None = None) -> None:
        self.trip_circuit_breaker = False
        self.stuck = False
        self._fails = fails or (lambda _backend, _service, _revision: self.trip_circuit_breaker)
        self._pending: dict[str, dict[str, Any]] = {}  # deployment id → looks, fails, previous

    def install(self, setter: Setter = setattr) -> None:
        update, describe = (
            EC2ContainerServiceBackend.update_service,
            EC2ContainerServiceBackend.describe_services,
        )

        def update_service(backend: Any, properties: dict[str, Any]) -> Any:
            name = properties["service"].split("/")[-1]
            before = backend._get_service(properties.get("cluster", "default"), name).task_definition
            service = update(backend, properties)
            if service.task_definition != before:
                fails = self._fails(backend, service, str(service.task_definition))
                self._start(service, fails=fails, previous=before)
            return service

        def describe_services(backend: Any, cluster: str, names: list[str]) -> Any:
            services, failures = describe(backend, cluster, names)
            for service in services:
                primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
                deployment = str(primary["id"])
                pending = self._pending.get(deployment)
                if pending is not None and not self.stuck:
                    pending["looks"] += 1
                    if pending["looks"] >= 2:
                        self._end(backend, service, primary, **self._pending.pop(deployment))
            return services, failures

        stop, delete = EC2ContainerServiceBackend.stop_task, EC2ContainerServiceBackend.delete_service

        def stop_task(backend: Any, cluster_str: str, task_str: str, reason: str) -> Any:
            task = stop(backend, cluster_str, task_str, reason)
            enis = ec2_backends[backend.account_id][backend.region_name].enis
            attachments: list[dict[str, Any]] = task.attachments
            for attachment in attachments:
                for detail in attachment.get("details", []):
                    if detail["name"] == "networkInterfaceId":
                        enis.pop(detail["value"], None)
            return task

        def delete_service(backend: Any, cluster_name: str, service_name: str, force: bool) -> Any:
            service = delete(backend, cluster_name, service_name, force)
            group = f"service:{service.name}"
            for task in backend.list_tasks(cluster_str=cluster_name, desiredStatus="RUNNING"):
                if task.group == group:
                    backend.stop_task(cluster_name, task.task_arn, "the service was deleted")
            return service

        setter(EC2ContainerServiceBackend, "update_service", update_service)
        setter(EC2ContainerServiceBackend, "describe_services", describe_services)
        setter(EC2ContainerServiceBackend, "stop_task", stop_task)
        setter(EC2ContainerServiceBackend, "delete_service", delete_service)

    def _start(self, service: Any, *, fails: bool, previous: str) -> None:
        for d in service.deployments:
            if d["status"] == "PRIMARY":
                d["status"] = "ACTIVE"
        deployment = f"ecs-svc/{uuid.uuid4().int % 10**18}"
        service.deployments.insert(
            0,
            {
                "id": deployment,
                "status": "PRIMARY",
                "taskDefinition": service.task_definition,
                "desiredCount": service.desired_count,
                "pendingCount": service.desired_count,
                "runningCount": 0,
                "failedTasks": 0,
                "createdAt": utcnow(),
                "updatedAt": utcnow(),
                "launchType": "FARGATE",
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": f"ECS deployment {deployment} in progress.",
            },
        )
        self._pending[deployment] = {"looks": 0, "fails": fails, "previous": previous}

    def _end(
        self,
        backend: Any,
        service: Any,
        deployment: dict[str, Any],
        *,
        looks: int,
        fails: bool,
        previous: str,
    ) -> None:
        if fails:
            deployment.update(
                status="ACTIVE",
                rolloutState="FAILED",
                rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
            )
            service.task_definition = previous
            self._start(service, fails=False, previous=deployment["taskDefinition"])
            return
        deployment.update(
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
            runningCount=service.desired_count,
            pendingCount=0,
        )
        service.deployments = [deployment]
        group = f"service:{service.name}"
        for task in backend.list_tasks(cluster_str=service.cluster_name, desiredStatus="RUNNING"):
            if task.group == group:
                backend.stop_task(service.cluster_name, task.task_arn, "replaced by the deployment")
        backend.run_task(
            service.cluster_name,
            service.task_definition,
            service.desired_count,
            None,
            deployment["id"],
            None,
            "FARGATE",
            networking_configuration=service.network_configuration,
            group=group,
        )
