"""The local AWS judges policies as AWS documents it: the cases `make deploy-local`'s denials and the
pipeline roles' apply rely on (infra/local/moto_local.py, fixes 2, 10 and 11)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

from infra.local import moto_local

BOUNDARY = "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-dev"


def judge(statement: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> PermissionResult:
    return moto_local._statement_is_action_permitted(  # type: ignore[no-any-return]  # moto is untyped
        IAMPolicyStatement(statement), action, resource, None, context
    )


CREATE_ROLE_WITH_BOUNDARY = {
    "Effect": "Allow",
    "Action": ["iam:CreateRole"],
    "Resource": ["arn:aws:iam::123456789012:role/flightdelay-dev-*"],
    "Condition": {"StringEquals": {"iam:PermissionsBoundary": [BOUNDARY]}},
}
ROLE = "arn:aws:iam::123456789012:role/flightdelay-dev-x"


def test_an_allow_with_a_condition_on_a_key_the_request_lacks_does_not_apply() -> None:
    # moto treats a missing key as a met condition: CreateRole without a boundary was allowed.
    assert judge(CREATE_ROLE_WITH_BOUNDARY, "iam:CreateRole", ROLE, {}) == PermissionResult.NEUTRAL
    wrong = {"iam:PermissionsBoundary": BOUNDARY.replace("dev", "prod")}
    assert judge(CREATE_ROLE_WITH_BOUNDARY, "iam:CreateRole", ROLE, wrong) == PermissionResult.NEUTRAL
    right = {"iam:PermissionsBoundary": BOUNDARY}
    assert judge(CREATE_ROLE_WITH_BOUNDARY, "iam:CreateRole", ROLE, right) == PermissionResult.PERMITTED


OTHER_ENVIRONMENTS = {
    "Effect": "Deny",
    "Action": ["ec2:*"],
    "Resource": ["*"],
    "Condition": {
        "Null": {"aws:ResourceTag/Environment": ["false"]},
        "StringNotEquals": {"aws:ResourceTag/Environment": ["dev"]},
    },
}


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"aws:ResourceTag/Environment": "prod"}, PermissionResult.DENIED),
        ({"aws:ResourceTag/Environment": "dev"}, PermissionResult.NEUTRAL),
        ({}, PermissionResult.NEUTRAL),  # untagged: Null "false" is not met
    ],
)
def test_null_and_negated_operators_are_evaluated_not_ignored(
    tags: dict[str, str], expected: PermissionResult
) -> None:
    # moto ignores operators it does not know: this Deny denied every EC2 action of the apply role.
    assert judge(OTHER_ENVIRONMENTS, "ec2:CreateVpc", "*", tags) == expected


def test_a_deny_with_not_resource_denies_only_outside_its_resources() -> None:
    statement = {
        "Effect": "Deny",
        "Action": ["s3:PutObject"],
        "NotResource": ["arn:aws:s3:::state/flightdelay/dev/*"],
    }
    # moto never reads NotResource, and answered PERMITTED for this Deny.
    assert (
        judge(statement, "s3:PutObject", "arn:aws:s3:::state/flightdelay/prod/x", {})
        == PermissionResult.DENIED
    )
    assert (
        judge(statement, "s3:PutObject", "arn:aws:s3:::state/flightdelay/dev/x", {})
        == PermissionResult.NEUTRAL
    )


def test_an_allow_on_named_resources_covers_a_request_moto_does_not_name_but_a_deny_does_not() -> None:
    allow = {
        "Effect": "Allow",
        "Action": ["logs:*"],
        "Resource": ["arn:aws:logs:*:*:log-group:/flightdelay/*"],
    }
    deny = {**allow, "Effect": "Deny"}
    assert judge(allow, "logs:CreateLogGroup", moto_local.UNNAMED, {}) == PermissionResult.PERMITTED
    assert judge(deny, "logs:CreateLogGroup", moto_local.UNNAMED, {}) == PermissionResult.NEUTRAL
    assert judge(allow, "logs:CreateLogGroup", "arn:aws:logs:us-east-1:1:log-group:/other", {}) == (
        PermissionResult.NEUTRAL
    )


@pytest.mark.parametrize(
    ("operator", "value", "holds"),
    [
        ("ForAnyValue:StringLike", ["alias/other", "alias/flightdelay-dev-secrets"], True),
        ("ForAnyValue:StringLike", ["alias/other"], False),
        ("StringLikeIfExists", None, True),
        ("StringLike", None, False),
    ],
)
def test_set_operators_and_if_exists(operator: str, value: Any, holds: bool) -> None:
    context = {} if value is None else {"kms:ResourceAliases": value}
    assert (
        moto_local._condition_holds(operator, "kms:ResourceAliases", ["alias/flightdelay-*-secrets"], context)
        is holds
    )


def token(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def test_a_token_s_claims_are_read_and_a_malformed_token_has_none() -> None:
    claims = {
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:o/r:pull_request",
        "exp": time.time(),
    }
    assert moto_local._claims(token(**claims)) == claims
    assert moto_local._claims("not-a-token") == {}
    assert moto_local._claims("a.%%%.c") == {}
