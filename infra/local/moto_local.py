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
2. Conditions. moto counts a statement whose condition is not met as an explicit deny (in AWS it
   does not apply at all), treats a condition on a key the request lacks as met, ignores operators
   it does not know (``Null``, ``StringNotEquals``, ``ForAnyValue:``...) and never reads
   ``NotResource``. Here statements are evaluated as AWS documents it (policy evaluation logic:
   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
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
9. Request context moto never sets: ``iam:PermissionsBoundary`` (the boundary a CreateRole or
   PutRolePermissionsBoundary request sets, or the one the role already carries for the role-policy
   actions) and ``ecs:cluster`` (ListTasks).
10. Resources moto does not name. moto authorizes most services' requests against ``*``. Here ECS
   RegisterTaskDefinition (the family), UpdateService/DescribeServices (the service) and every ECR
   request on a repository (the repository) are authorized against their real ARN, as AWS does. The
   remaining requests still reach moto as ``*``: for them an Allow statement is judged on its
   actions and conditions only (its resources are checked by the rendered-policy tests under
   infra/modules/*/tests instead), and a Deny applies only when it covers every resource.
11. moto lets any web identity token assume any role, and under enforced IAM fails the unsigned
   AssumeRoleWithWebIdentity request outright. Here the token's claims (issuer, audience, subject,
   expiry) are judged against the role's trust policy and the account's OIDC providers, as STS
   does; the token's signature is not checked (GitHub's keys are out of reach here).
12. ECS rollouts (infra/local/ecs_rollouts.py): moto starts no deployment on UpdateService. Here a
   rollout completes, or, when the new revision's image is an image of this account's ECR that
   was never pushed (ECS: CannotPullContainerError), its tasks fail to start and the deployment
   circuit breaker rolls it back.
14. moto names an action by the service's signing name (``monitoring:PutMetricAlarm``), which a
   policy never does (``cloudwatch:PutMetricAlarm``), and HeadBucket ``s3:HeadBucket`` (IAM has no
   such action: AWS authorizes it as ``s3:ListBucket``): actions are named as IAM names them.
13. EventBridge has no TestEventPattern (NotImplementedError): here it answers with moto's own
   pattern matcher, the one that routes put_events to the rules' targets.
5. Bucket logging accepts a target-bucket policy only when its Resource is ``bucket/*`` or
   ``bucket/<prefix>*`` to the letter, not a wildcard that covers the prefix (``bucket/s3/*``), and
   crashes on a statement whose Principal is the string ``"*"`` (our TLS-only deny).
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import moto
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.athena.exceptions import AthenaClientError
from moto.athena.responses import AthenaResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError
from moto.ecr.models import ecr_backends
from moto.ecr.responses import ECRResponse
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler
from moto.iam import access_control, policy_conditions
from moto.iam.models import iam_backends
from moto.s3.models import FakeBucket
from moto.ssm.responses import SimpleSystemManagerResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the repository root
from infra.local.ecs_rollouts import Rollouts

ECS_AGENT_USER = "local-ecs-agent"
ECS_TASKS = "ecs-tasks.amazonaws.com"
SECURE_TRANSPORT = {"aws:SecureTransport": "true"}  # the server below is TLS-only


def _string_like(expected: list[str] | str, actual: str) -> bool:
    patterns = [expected] if isinstance(expected, str) else expected
    return any(fnmatch.fnmatchcase(actual, pattern) for pattern in patterns)


def _bool(expected: list[str] | str, actual: str) -> bool:
    values = [expected] if isinstance(expected, str) else expected
    return any(str(v).lower() == str(actual).lower() for v in values)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _params(request: Any) -> dict[str, Any]:
    """The request's parameters, from its query string or form (Query APIs) or JSON body."""
    params = (
        {k: _first(v) for k, v in (request._data or {}).items()} if isinstance(request._data, dict) else {}
    )
    try:
        body = json.loads(request._body or b"{}")
    except ValueError:
        body = None
    if isinstance(body, dict):
        params.update(body)
    return params


ROLE_POLICY_ACTIONS = {
    "iam:AttachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
}


def _incoming(request: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(SECURE_TRANSPORT)
    data = request._data
    prefix = data.get("prefix") if isinstance(data, dict) else None
    if isinstance(prefix, list):
        prefix = prefix[0] if prefix else None
    # A ListBucket without a prefix matches no s3:prefix pattern but "" and "*", as in AWS.
    values["s3:prefix"] = prefix or ""
    values.update(access_control.format_incoming_conditional_values(data))  # type: ignore[attr-defined]  # moto's own helper, not re-exported
    action, params = request._action, _params(request)
    if action in {"iam:CreateRole", "iam:PutRolePermissionsBoundary"} and params.get("PermissionsBoundary"):
        values["iam:PermissionsBoundary"] = params["PermissionsBoundary"]
    elif action in ROLE_POLICY_ACTIONS and params.get("RoleName"):
        try:
            boundary = request.backend.get_role(params["RoleName"]).permissions_boundary_arn
        except Exception:  # moto's own not-found error: the action then fails as in AWS
            boundary = None
        if boundary:
            values["iam:PermissionsBoundary"] = boundary
    elif action == "ecs:ListTasks":
        cluster = params.get("cluster") or "default"
        values["ecs:cluster"] = (
            cluster if cluster.startswith("arn:") else _ecs_arn(request, f"cluster/{cluster}")
        )
    return values


def _ecs_arn(request: Any, resource: str) -> str:
    return f"arn:aws:ecs:{request._region}:{request.account_id}:{resource}"


# --- policy evaluation as AWS documents it (fix 2) ----------------------------------------------
UNNAMED = "*"  # the resource moto authorizes a request against when it does not name one
# moto names an action by the service's signing name; IAM by its own prefix where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch"}
# Requests moto names by their API name, which IAM authorizes with another action.
IAM_ACTION = {"s3:HeadBucket": "s3:ListBucket"}


def _like(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


TESTS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringEqualsIgnoreCase": lambda value, wanted: value.lower() == wanted.lower(),
    "StringLike": _like,
    "ArnEquals": _like,  # ArnEquals and ArnLike both take wildcards in AWS
    "ArnLike": _like,
    "Bool": lambda value, wanted: value.lower() == wanted.lower(),
}
NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator: str, key: str, expected: Any, incoming: dict[str, Any]) -> bool:
    wanted = [str(w) for w in (expected if isinstance(expected, list) else [expected])]
    if operator == "Null":
        return (key not in incoming) == (wanted[0].lower() == "true")
    quantifier, _, test = operator.rpartition(":")
    if_exists = test.endswith("IfExists")
    test = test.removesuffix("IfExists")
    if key not in incoming:
        return if_exists or quantifier == "ForAllValues"
    base = NEGATIONS.get(test, test)
    if base not in TESTS:
        print(f"moto_local: condition operator {operator} is not evaluated: not met", file=sys.stderr)
        return False
    actual = incoming[key] if isinstance(incoming[key], list) else [incoming[key]]

    def holds(value: Any) -> bool:
        matched = any(TESTS[base](str(value), w) for w in wanted)
        return not matched if test in NEGATIONS else matched

    if quantifier == "ForAllValues":
        return all(holds(v) for v in actual)
    return any(holds(v) for v in actual)


def _conditions_hold(conditions: dict[str, dict[str, Any]] | None, incoming: dict[str, Any]) -> bool:
    return all(
        _condition_holds(operator, key, expected, incoming)
        for operator, pairs in (conditions or {}).items()
        for key, expected in pairs.items()
    )


def _check_action_permitted(self: Any, resource: str) -> None:
    """moto's IAMRequestBase.check_action_permitted, with request context for conditions."""
    if self._action == "sts:GetCallerIdentity":
        return
    service, _, operation = self._action.partition(":")
    self._action = f"{IAM_PREFIX.get(service, service)}:{operation}"
    self._action = IAM_ACTION.get(self._action, self._action)
    incoming = _incoming(self)
    permitted, denied = False, False
    for policy in self._access_key.collect_policies():
        result = access_control.IAMPolicy(policy).is_action_permitted(self._action, resource, None, incoming)
        denied = denied or result == access_control.PermissionResult.DENIED
        permitted = permitted or result == access_control.PermissionResult.PERMITTED
    if self._is_assuming_role_operation(resource):
        permitted = permitted and self._check_role_trust_relationship(resource)
    if denied or not permitted:
        # One line per refusal in moto.log: what a failed apply or stage was refused, and why.
        why = "explicit deny" if denied else "no allow"
        who = self._access_key.arn
        print(f"moto_local: denied {self._action} on {resource} to {who} ({why})", file=sys.stderr)
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
    statement = self._statement
    if "NotAction" in statement:
        concerned = not self._check_element_matches("NotAction", action)
    else:
        concerned = self._check_element_matches("Action", action)
    if not concerned or self.is_unknown_principal(statement.get("Principal")):
        return access_control.PermissionResult.NEUTRAL
    if principal and not self._check_principal(principal):
        return access_control.PermissionResult.DENIED
    if not _conditions_hold(statement.get("Condition"), incoming or {}):
        return access_control.PermissionResult.NEUTRAL  # an unmet condition: the statement does not apply
    allows = statement["Effect"] == "Allow"
    if "NotResource" in statement:
        applies = resource != UNNAMED and not self._check_element_matches("NotResource", resource)
    elif "Resource" in statement:
        applies = (resource == UNNAMED and allows) or self._check_element_matches("Resource", resource)
    else:  # a trust policy
        applies = True
    if not applies:
        return access_control.PermissionResult.NEUTRAL
    return access_control.PermissionResult.PERMITTED if allows else access_control.PermissionResult.DENIED


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


def _ecs_resource(self: Any) -> str:
    body = json.loads(self.body or "{}")
    prefix = f"arn:aws:ecs:{self.region}:{self.current_account}"
    action = self._get_action()
    if action == "RegisterTaskDefinition" and body.get("family"):
        return f"{prefix}:task-definition/{body['family']}:*"
    if action in {"UpdateService", "DescribeServices"}:
        services = body.get("services") or ([body["service"]] if "service" in body else [])
        cluster = str(body.get("cluster") or "default").split("/")[-1]
        if len(services) == 1:
            name = str(services[0])
            return name if name.startswith("arn:") else f"{prefix}:service/{cluster}/{name}"
    return UNNAMED


def _ecr_resource(self: Any) -> str:
    body = json.loads(self.body or "{}")
    name = body.get("repositoryName")
    return f"arn:aws:ecr:{self.region}:{self.current_account}:repository/{name}" if name else UNNAMED


def _claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (IndexError, ValueError):
        return {}


def _web_identity_trusted(account: str, role_arn: str, token: str) -> bool:
    """STS's judgement of AssumeRoleWithWebIdentity: the token's claims against the role's trust policy."""
    claims = _claims(token)
    issuer = re.sub(r"^https://", "", str(claims.get("iss", "")))
    if not issuer or float(claims.get("exp", 0)) < time.time():
        return False
    backend = iam_backends[account]["aws"]
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:  # moto raises its own not-found errors
        return False
    providers = {arn: p for arn, p in backend.open_id_providers.items() if p.url == issuer}
    incoming = {f"{issuer}:{name}": str(claims[name]) for name in ("aud", "sub", "amr") if name in claims}
    for statement in json.loads(role.assume_role_policy_document).get("Statement", []):
        actions = statement.get("Action", [])
        federated = (statement.get("Principal") or {}).get("Federated")
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRoleWithWebIdentity" in ([actions] if isinstance(actions, str) else actions)
            and federated in providers
            and str(claims.get("aud")) in providers[federated].client_id_list
            and _conditions_hold(statement.get("Condition"), incoming)
        ):
            return True
    return False


def _authenticate_and_authorize_normal_action(self: Any, resource: str = "*") -> None:
    if self._get_action() == "AssumeRoleWithWebIdentity":  # unsigned: the token is the credential
        role_arn, token = self._get_param("RoleArn"), self._get_param("WebIdentityToken") or ""
        if not _web_identity_trusted(self.current_account, role_arn, token):
            raise AccessDeniedError(
                user_arn=f"web identity {_claims(token).get('sub', '?')}",
                action="sts:AssumeRoleWithWebIdentity",
            )
        return
    _original_authenticate(self, resource)


def _image_missing(backend: Any, service: Any, revision: str) -> bool:
    """ECS cannot pull an image of this account's ECR that was never pushed: its tasks fail to start."""
    definition = backend.describe_task_definition(revision)
    for container in definition.container_definitions:
        match = re.match(
            r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/(.+):([^:@]+)$", container["image"]
        )
        if match is None:
            continue
        account, region, repository, tag = match.groups()
        images = getattr(ecr_backends[account][region].repositories.get(repository), "images", [])
        if not any(tag in image.image_tags for image in images):
            return True
    return False


def _test_event_pattern(self: Any) -> str:
    pattern = EventPattern.load(self._get_param("EventPattern"))
    return json.dumps({"Result": bool(pattern.matches_event(json.loads(self._get_param("Event"))))})


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
_original_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action


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
    EC2ContainerServiceResponse._determine_resource = _ecs_resource  # type: ignore[attr-defined]  # patching moto
    ECRResponse._determine_resource = _ecr_resource  # type: ignore[attr-defined]  # patching moto
    authenticate = _authenticate_and_authorize_normal_action
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authenticate  # type: ignore[method-assign]  # patching moto
    EventsHandler.test_event_pattern = _test_event_pattern  # type: ignore[method-assign,assignment]  # patching moto
    Rollouts(fails=_image_missing).install()


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
