"""A moto server for `make deploy-local`, with the few fixes it needs to judge our IAM as AWS does.

Run as ``python infra/local/moto_local.py --port N --cert C --key K``. Every fix below is a gap of
moto 5.2 (seen with 5.2.5) that would otherwise make the deployed loop pass or fail for the
emulator's reasons, not ours; each is listed in infra/README.md ("Applying to a local AWS").
The product's Terraform and code are never changed to please the emulator: only moto is.

1. Condition keys. moto gives identity and bucket policies no request context and evaluates only
   ``StringEquals``, so a ``Bool aws:SecureTransport`` deny (our TLS-only bucket policies) matches
   every request, and an ``s3:ListBucket`` allowed only for some ``s3:prefix`` values allows any
   prefix. Here requests carry ``aws:SecureTransport`` (this server speaks TLS only) and
   ``s3:prefix``, and ``StringLike``/``Bool`` are evaluated.
2. A statement whose condition is not met counts as an explicit deny in moto; in AWS it does not
   apply at all.
3. moto has no ECS task runtime: deploy-local plays ECS's part and assumes each task role, as ECS
   does for a task. moto's trust-policy check crashes on a ``Service`` principal (TypeError), so a
   role trusted by ``ecs-tasks.amazonaws.com`` may be assumed by the local ECS agent user only.
4. application-autoscaling lacks ListTagsForResource/TagResource (the AWS provider retries forever).
6. moto computes a wrong SigV4 signature for EventBridge Scheduler requests with a query string
   (GetSchedule ...?groupName=default answers SignatureDoesNotMatch): for that service alone the
   signature is not compared; the access key still selects the identity whose policies apply.
8. Athena has no DeleteNamedQuery and no UpdateWorkGroup (the provider retries forever), and
   GetNamedQuery of a deleted query fails with a server error instead of InvalidRequestException.
7. moto authorizes requests of most services against the resource ``*`` (only S3, SQS, IAM and
   STS name theirs), so a policy scoped to one SSM parameter denies reading it. SSM requests that
   name one parameter are authorized against that parameter's ARN.
5. Bucket logging accepts a target-bucket policy only when its Resource is ``bucket/*`` or
   ``bucket/<prefix>*`` to the letter, not a wildcard that covers the prefix (``bucket/s3/*``), and
   crashes on a statement whose Principal is the string ``"*"`` (our TLS-only deny).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
from typing import Any

import moto
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.athena.exceptions import AthenaClientError
from moto.athena.responses import AthenaResponse
from moto.iam import access_control, policy_conditions
from moto.s3.models import FakeBucket
from moto.ssm.responses import SimpleSystemManagerResponse

ECS_AGENT_USER = "local-ecs-agent"
ECS_TASKS = "ecs-tasks.amazonaws.com"
SECURE_TRANSPORT = {"aws:SecureTransport": "true"}  # the server below is TLS-only


def _string_like(expected: list[str] | str, actual: str) -> bool:
    patterns = [expected] if isinstance(expected, str) else expected
    return any(fnmatch.fnmatchcase(actual, pattern) for pattern in patterns)


def _bool(expected: list[str] | str, actual: str) -> bool:
    values = [expected] if isinstance(expected, str) else expected
    return any(str(v).lower() == str(actual).lower() for v in values)


def _incoming(data: dict[str, Any]) -> dict[str, str]:
    values = dict(SECURE_TRANSPORT)
    prefix = data.get("prefix") if isinstance(data, dict) else None
    if isinstance(prefix, list):
        prefix = prefix[0] if prefix else None
    # A ListBucket without a prefix matches no s3:prefix pattern but "" and "*", as in AWS.
    values["s3:prefix"] = prefix or ""
    values.update(access_control.format_incoming_conditional_values(data))  # type: ignore[attr-defined]  # moto's own helper, not re-exported
    return values


def _check_action_permitted(self: Any, resource: str) -> None:
    """moto's IAMRequestBase.check_action_permitted, with request context for conditions."""
    if self._action == "sts:GetCallerIdentity":
        return
    incoming = _incoming(self._data)
    permitted = False
    for policy in self._access_key.collect_policies():
        result = access_control.IAMPolicy(policy).is_action_permitted(self._action, resource, None, incoming)
        if result == access_control.PermissionResult.DENIED:
            self._raise_access_denied()
        elif result == access_control.PermissionResult.PERMITTED:
            permitted = True
    if self._is_assuming_role_operation(resource):
        permitted = permitted and self._check_role_trust_relationship(resource)
    if not permitted:
        self._raise_access_denied()


def _check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    role = self.backend.get_role_by_arn(role_arn)
    for statement in json.loads(role.assume_role_policy_document).get("Statement", []):
        service = (statement.get("Principal") or {}).get("Service")
        services = [service] if isinstance(service, str) else service or []
        if ECS_TASKS in services:
            return bool(self._access_key.arn.endswith(f":user/{ECS_AGENT_USER}"))
    return bool(_original_trust(self, role_arn))


def _statement_is_action_permitted(
    self: Any, action: str, resource: str = "*", principal: Any = None, incoming: Any = None
) -> Any:
    result = _original_statement(self, action, resource, principal, incoming)
    if (
        result == access_control.PermissionResult.DENIED
        and self._statement.get("Condition")
        and self._check_element_matches("Action", action)
        and not self._check_conditions(incoming)
    ):
        return access_control.PermissionResult.NEUTRAL  # an unmet condition: the statement does not apply
    return result


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return access_control.PermissionResult.NEUTRAL
    return access_control.IAMPolicy(self.policy.decode()).is_action_permitted(
        action, resource, None, dict(SECURE_TRANSPORT)
    )


def _log_permissions(target_bucket: FakeBucket, target_prefix: str | None) -> bool:
    wanted = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}"
    for statement in json.loads(target_bucket.policy.decode())["Statement"] if target_bucket.policy else []:
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else None
        if (
            statement.get("Effect") == "Allow"
            and service == "logging.s3.amazonaws.com"
            and any(fnmatch.fnmatchcase(wanted, r) for r in resources)
        ):
            return True
    return False


def _ssm_resource(self: Any) -> str:
    body = json.loads(self.body or "{}")
    names = body.get("Names") or ([body["Name"]] if "Name" in body else [])
    if len(names) != 1:
        return "*"
    name = names[0] if names[0].startswith("/") else f"/{names[0]}"
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter{name}"


def _delete_named_query(self: Any) -> str:
    self.athena_backend.named_queries.pop(self._get_param("NamedQueryId"), None)
    return "{}"


def _update_work_group(self: Any) -> str:
    group = self.athena_backend.work_groups.get(self._get_param("WorkGroup"))
    if group is None:
        raise AthenaClientError("InvalidRequestException", "WorkGroup not found")
    group.description = self._get_param("Description") or group.description
    group.state = self._get_param("State") or group.state
    return "{}"


def _get_named_query(self: Any) -> str:
    query_id = self._get_param("NamedQueryId")
    if self.athena_backend.get_named_query(query_id) is None:
        raise AthenaClientError("InvalidRequestException", f"NamedQuery {query_id} was not found")
    return str(_original_get_named_query(self))


def _check_signature(self: Any) -> None:
    if self._service == "scheduler":
        return
    _original_signature(self)


def _list_tags(self: Any) -> str:
    return json.dumps({"Tags": {}})


def _tag(self: Any) -> str:
    return "{}"


_original_trust = access_control.IAMRequestBase._check_role_trust_relationship
_original_statement = access_control.IAMPolicyStatement.is_action_permitted
_original_signature = access_control.IAMRequestBase.check_signature
_original_get_named_query = AthenaResponse.get_named_query


def apply_patches() -> None:
    if not moto.__version__.startswith("5.2."):
        raise SystemExit(f"infra/local/moto_local.py was written for moto 5.2.x, not {moto.__version__}")
    policy_conditions.CONDITION_OPERATIONS.update({"StringLike": _string_like, "Bool": _bool})  # type: ignore[dict-item]  # same call, broader types
    access_control.IAMRequestBase.check_action_permitted = _check_action_permitted  # type: ignore[method-assign]  # patching moto
    access_control.IAMRequestBase.check_signature = _check_signature  # type: ignore[method-assign]  # patching moto
    access_control.IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship  # type: ignore[method-assign]  # patching moto
    access_control.IAMPolicyStatement.is_action_permitted = _statement_is_action_permitted  # type: ignore[method-assign,assignment]  # patching moto
    FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]  # patching moto
    FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions)  # type: ignore[method-assign]  # patching moto
    SimpleSystemManagerResponse._determine_resource = _ssm_resource  # type: ignore[attr-defined]  # patching moto
    AthenaResponse.delete_named_query = _delete_named_query  # type: ignore[attr-defined]  # patching moto
    AthenaResponse.update_work_group = _update_work_group  # type: ignore[attr-defined]  # patching moto
    AthenaResponse.get_named_query = _get_named_query  # type: ignore[method-assign]  # patching moto
    ApplicationAutoScalingResponse.list_tags_for_resource = _list_tags  # type: ignore[attr-defined]  # patching moto
    ApplicationAutoScalingResponse.tag_resource = _tag  # type: ignore[attr-defined]  # patching moto
    ApplicationAutoScalingResponse.untag_resource = _tag  # type: ignore[attr-defined]  # patching moto


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    apply_patches()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", str(args.port), "-c", args.cert, "-k", args.key])


if __name__ == "__main__":
    main()
