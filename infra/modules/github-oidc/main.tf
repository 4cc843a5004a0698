# GitHub Actions → AWS through OIDC, no stored keys. Applied once per account (envs/account), by an
# administrator, so that no role a workflow can assume is able to change its own permissions.
#  - per environment: deploy (push images, register its own task families, roll out its own service
#    and schedules) and terraform-apply (create that environment's stack), each trusted only by jobs
#    that run in that GitHub environment (prod's required reviewers therefore gate both);
#  - per environment: the permissions boundary every role of that stack carries. The apply role may
#    create or change a role only when the request sets exactly this boundary, and may never change
#    the boundary policy itself nor take it off a role;
#  - one terraform-plan role for pull requests: read-only, writes only the state lock files, and is
#    denied every read of a secret.
# Trust conditions follow https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
# Boundaries follow https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
# (the "delegate permissions management" example: create only with the boundary, never delete it).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account      = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  iam          = "arn:${local.partition}:iam::${local.account}"
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "${local.iam}:oidc-provider/token.actions.githubusercontent.com"
  repo         = "repo:${var.github_repository}"
  # What each environment's stack is called: its resources all start with this (modules/stack).
  stack = { for e in var.environments : e => "${var.name_prefix}-${e}" }
  state = "${var.terraform_state_bucket_arn}/${var.name_prefix}"
  # The boundary's name is outside every "<stack>-*" pattern an apply role may write to (an
  # environment name has at most 10 characters; "permissions" has 11), so no apply role can edit it.
  # The environment roots find it by this same name (envs/dev, envs/prod).
  boundary_name = { for e in var.environments : e => "${var.name_prefix}-permissions-boundary-${e}" }
  boundary_arn  = { for e, n in local.boundary_name : e => "${local.iam}:policy/${n}" }
  # The account's image repositories, <name_prefix>/<image> (modules/ecr), shared by the environments.
  repositories = "arn:${local.partition}:ecr:*:${local.account}:repository/${var.name_prefix}/*"
  # The project's Aviation Stack key parameters (modules/secrets), of every environment.
  secret_parameters = "arn:${local.partition}:ssm:*:${local.account}:parameter/${var.name_prefix}-*/aviationstack/*"
  # Roles of a stack by what they are passed to (modules/iam, modules/scheduled-task, modules/network).
  task_roles      = { for e, s in local.stack : e => ["${local.iam}:role/${s}-task-exec", "${local.iam}:role/${s}-*-task"] }
  scheduler_roles = { for e, s in local.stack : e => ["${local.iam}:role/${s}-*-sched-*"] }
  flow_log_roles  = { for e, s in local.stack : e => ["${local.iam}:role/${s}-flow-*"] }

  # AWS assigns the IDs of these resources, so a policy cannot name them: the apply role may call
  # these actions on "*", and an explicit Deny (OtherEnvironmentsResources) keeps it off every
  # resource tagged for another environment (the environment roots tag everything with
  # Environment = <env> through the provider's default_tags).
  network_actions = [
    "ec2:AllocateAddress", "ec2:AssociateRouteTable", "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateFlowLogs", "ec2:CreateInternetGateway", "ec2:CreateNatGateway",
    "ec2:CreateRoute", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateTags",
    "ec2:CreateVpc", "ec2:CreateVpcEndpoint", "ec2:DeleteFlowLogs", "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway",
    "ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags",
    "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints", "ec2:DetachInternetGateway", "ec2:DisassociateAddress",
    "ec2:DisassociateRouteTable", "ec2:ModifySecurityGroupRules", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute",
    "ec2:ModifyVpcEndpoint", "ec2:ReleaseAddress", "ec2:ReplaceRoute", "ec2:ReplaceRouteTableAssociation",
    "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
  ]
  key_actions = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DisableKeyRotation", "kms:EnableKeyRotation",
    "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]
  autoscaling_actions = [
    "application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy", "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:TagResource", "application-autoscaling:UntagResource",
  ]
}

resource "aws_iam_openid_connect_provider" "github" {
  count           = var.create_oidc_provider ? 1 : 0
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
  tags            = var.tags
}

data "aws_iam_policy_document" "trust" {
  for_each = merge(
    { for e in var.environments : e => ["${local.repo}:environment:${e}"] },
    { pull_requests = ["${local.repo}:pull_request"] },
  )
  statement {
    sid     = "GitHubActionsOidc"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = each.value
    }
  }
}

# --- what no pipeline role may read ----------------------------------------------------------------
# ReadOnlyAccess includes ssm:Get*; these explicit denials win over it. The key never enters a state
# (modules/secrets only names its parameter), so plan and apply never need it. One managed policy,
# attached to the plan role and to every apply role.
data "aws_iam_policy_document" "never_read_secrets" {
  statement {
    sid       = "NeverReadTheAviationStackKey"
    effect    = "Deny"
    actions   = ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters"]
    resources = [local.secret_parameters]
  }
  statement {
    sid       = "NeverReadParametersByPath" # a recursive read of "/" would include the key
    effect    = "Deny"
    actions   = ["ssm:GetParametersByPath"]
    resources = ["arn:${local.partition}:ssm:*:${local.account}:parameter/*"]
  }
  statement {
    sid       = "NeverDecryptTheAviationStackKey"
    effect    = "Deny"
    actions   = ["kms:Decrypt"]
    resources = ["*"] # a Deny: every key that could hold the parameter
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:PARAMETER_ARN" # what SSM passes to KMS for a SecureString
      values   = [local.secret_parameters]
    }
  }
  statement {
    sid       = "NeverDecryptWithTheSecretsKeys"
    effect    = "Deny"
    actions   = ["kms:Decrypt"]
    resources = ["*"] # a Deny: the keys are found by their alias (modules/secrets)
    condition {
      test     = "ForAnyValue:StringLike"
      variable = "kms:ResourceAliases"
      values   = ["alias/${var.name_prefix}-*-secrets"]
    }
  }
  statement {
    sid       = "NeverReadSecretValues"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:*:${local.account}:secret:${var.name_prefix}-*"]
  }
}

resource "aws_iam_policy" "never_read_secrets" {
  name        = "${var.name_prefix}-github-never-read-secrets" # outside every <stack>-*: no apply role can change it
  description = "No pipeline role reads the Aviation Stack key or a secret's value"
  policy      = data.aws_iam_policy_document.never_read_secrets.json
  tags        = var.tags
}

# Reading a state object encrypted with the state bucket's key: only through S3, only for that
# bucket (the encryption context S3 passes with a bucket key is the bucket's ARN:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
data "aws_iam_policy_document" "state_key" {
  statement {
    sid       = "UseTheStateKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [var.terraform_state_bucket_arn, "${local.state}/*"]
    }
  }
}

# --- permissions boundary: one per environment, the most any role of that stack may ever do ---------
data "aws_iam_policy_document" "boundary" {
  for_each = local.stack
  statement {
    sid       = "ObjectsOfThisEnvironment"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${each.value}-*/*"]
  }
  statement {
    sid       = "ListBucketsOfThisEnvironment"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${each.value}-*"]
  }
  statement {
    sid       = "UseKeysThroughTheirServices" # bucket keys, the SSM parameter, the Docker Hub secret
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com", "secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com"]
    }
  }
  statement {
    sid       = "WriteLogsOfThisEnvironment"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:*:${local.account}:log-group:/flightdelay/${each.value}/*"]
  }
  statement {
    sid       = "ReadParametersAndSecretsOfThisEnvironment"
    actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    resources = ["arn:${local.partition}:ssm:*:${local.account}:parameter/${each.value}/*", "arn:${local.partition}:secretsmanager:*:${local.account}:secret:${each.value}-*"]
  }
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [local.repositories]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource to scope to
  }
  statement {
    sid       = "RunTasksOfThisEnvironment" # the schedules
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:*:${local.account}:task-definition/${each.value}-*"]
  }
  statement {
    sid       = "PassTaskRolesOfThisEnvironment" # the schedules start tasks with them
    actions   = ["iam:PassRole"]
    resources = local.task_roles[each.key]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "ReportFailedRuns"
    actions   = ["sqs:SendMessage"]
    resources = ["arn:${local.partition}:sqs:*:${local.account}:${each.value}-*"]
  }
}

resource "aws_iam_policy" "boundary" {
  for_each    = local.stack
  name        = local.boundary_name[each.key]
  description = "Permissions boundary of every role of ${each.value} (the most any of them may do)"
  policy      = data.aws_iam_policy_document.boundary[each.key].json
  tags        = var.tags
}

# --- deploy: one role per environment ------------------------------------------------------------
# ECS resource-level permissions, from "Actions, resources, and condition keys for Amazon Elastic
# Container Service" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html):
# RegisterTaskDefinition requires the task-definition resource
# (arn:…:task-definition/FAMILY:REVISION), so a policy can name the families; tagging on register is
# ecs:TagResource with ecs:CreateAction; DescribeTaskDefinition (and DeregisterTaskDefinition) take no
# resource at all; UpdateService/DescribeServices take the service, DescribeTasks the task, and
# ListTasks is limited by the ecs:cluster condition key.
data "aws_iam_policy_document" "deploy" {
  for_each = local.stack
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource to scope to
  }
  statement {
    # The account's repositories are shared by the environments: an image is built once and the
    # same digest is deployed to dev, then prod; the deploy also tags what it rolls out <env>-<sha>
    # (modules/ecr keeps those). Tags are immutable, so no push can replace an image.
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
      "ecr:DescribeImageScanFindings", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [local.repositories]
  }
  statement {
    sid       = "RegisterOwnTaskFamilies"
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = [for f in var.task_families : "arn:${local.partition}:ecs:*:${local.account}:task-definition/${each.value}-${f}:*"]
  }
  statement {
    sid       = "TagOwnRevisionsOnRegister"
    actions   = ["ecs:TagResource"]
    resources = [for f in var.task_families : "arn:${local.partition}:ecs:*:${local.account}:task-definition/${each.value}-${f}:*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }
  statement {
    sid       = "DescribeTaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition"]
    resources = ["*"] # DescribeTaskDefinition takes no resource (AWS's table above); it only reads
  }
  statement {
    sid       = "RollOutTheApiService"
    actions   = ["ecs:DescribeServices", "ecs:UpdateService"]
    resources = ["arn:${local.partition}:ecs:*:${local.account}:service/${each.value}/*"]
  }
  statement {
    sid       = "WatchTheRollout"
    actions   = ["ecs:ListTasks"]
    resources = ["*"] # ListTasks names no task; it is limited to this environment's cluster below
    condition {
      test     = "StringLike"
      variable = "ecs:cluster"
      values   = ["arn:${local.partition}:ecs:*:${local.account}:cluster/${each.value}"]
    }
  }
  statement {
    sid       = "DescribeTasksOfThisCluster"
    actions   = ["ecs:DescribeTasks"]
    resources = ["arn:${local.partition}:ecs:*:${local.account}:task/${each.value}/*"]
  }
  statement {
    sid       = "MoveTheSchedules" # to the new revision, after the API's rollout is checked
    actions   = ["scheduler:GetSchedule", "scheduler:UpdateSchedule"]
    resources = [for f in var.task_families : "arn:${local.partition}:scheduler:*:${local.account}:schedule/default/${each.value}-${f}" if f != "api"] # the API is a service, the others schedules (modules/stack)
  }
  statement {
    sid       = "CheckTheTargets"
    actions   = ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"]
    resources = ["*"] # Elastic Load Balancing's Describe* actions take no resource; they only read
  }
  statement {
    sid       = "RecordTheImageTag"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:*:${local.account}:parameter/${each.value}/image-tag"]
  }
  statement {
    sid       = "PassTaskRolesToEcs" # a new revision names its task and execution roles
    actions   = ["iam:PassRole"]
    resources = local.task_roles[each.key]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassSchedulerRoles" # UpdateSchedule passes the schedule's role again
    actions   = ["iam:PassRole"]
    resources = local.scheduler_roles[each.key]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each             = local.stack
  name                 = "${var.name_prefix}-github-${each.key}-deploy" # outside ${each.value}-*: no stack role can change it
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.stack
  name     = "push-register-deploy"
  role     = aws_iam_role.deploy[each.key].id
  policy   = data.aws_iam_policy_document.deploy[each.key].json
}

# --- terraform plan: pull requests, read-only ---------------------------------------------------
# A plan reads every environment's state (it holds no secret: modules/secrets) and decrypts nothing
# else: ReadOnlyAccess has no kms:Decrypt, and the secrets are denied outright.
data "aws_iam_policy_document" "plan_state" {
  source_policy_documents = [data.aws_iam_policy_document.state_key.json]
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = ["${local.state}/*/terraform.tfstate"]
  }
  statement {
    sid       = "HoldTheLock" # plan takes the S3-native lock (use_lockfile) and nothing else
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state}/*/terraform.tfstate.tflock"]
  }
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [var.terraform_state_bucket_arn]
  }
  statement {
    # ReadOnlyAccess has no glue:GetPartitionIndexes, which refreshing a Glue table reads
    # (modules/analytics); make deploy-local's plan with this role found it (AccessDenied).
    sid     = "ReadWhatReadOnlyAccessLacks"
    actions = ["glue:GetPartitionIndexes"]
    resources = [
      "arn:${local.partition}:glue:*:${local.account}:catalog",
      "arn:${local.partition}:glue:*:${local.account}:database/${replace(var.name_prefix, "-", "_")}_*",
      "arn:${local.partition}:glue:*:${local.account}:table/${replace(var.name_prefix, "-", "_")}_*/*",
    ]
  }
}

resource "aws_iam_role" "terraform_plan" {
  name               = "${var.name_prefix}-github-terraform-plan"
  assume_role_policy = data.aws_iam_policy_document.trust["pull_requests"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_plan" {
  role       = aws_iam_role.terraform_plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy_attachment" "terraform_plan_never_read_secrets" {
  role       = aws_iam_role.terraform_plan.name
  policy_arn = aws_iam_policy.never_read_secrets.arn
}

resource "aws_iam_role_policy" "terraform_plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.plan_state.json
}

# --- terraform apply: one role per environment, that environment's resources only ----------------
# IAM counts at most 10,240 characters (whitespace aside) of inline policy per role; tests/ checks
# this document stays under it for the longest environment name.
data "aws_iam_policy_document" "apply" {
  for_each                = local.stack
  source_policy_documents = [data.aws_iam_policy_document.state_key.json]
  # checkov:skip=CKV_AWS_356:"*" remains only where AWS assigns the resource IDs (VPC parts, KMS key creation, scaling targets) or the action takes no resource (ecs:DeregisterTaskDefinition); each statement says why, and OtherEnvironmentsResources denies every resource tagged for another environment.
  # checkov:skip=CKV_AWS_111:Same statements (Network, ApiAutoscaling, CreateKeys, DeregisterTaskDefinitions); every other write names this environment's resources.
  statement {
    sid       = "StateOfThisEnvironment"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state}/${each.key}/*"]
  }
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [var.terraform_state_bucket_arn]
  }
  statement {
    # ReadOnlyAccess reads every object; this leaves it only its own state and its own buckets, so
    # another environment's state (and anything in it) stays out of reach.
    sid           = "NoOtherObjects"
    effect        = "Deny"
    actions       = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    not_resources = ["${local.state}/${each.key}/*", "arn:${local.partition}:s3:::${each.value}-*"]
  }

  # --- IAM: this environment's roles, always under its boundary --------------------------------
  statement {
    sid = "RolesOnlyWithTheBoundary"
    actions = [
      "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
    ]
    resources = ["${local.iam}:role/${each.value}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn[each.key]]
    }
  }
  statement {
    sid = "ManageRolesOfThisEnvironment"
    actions = [
      "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = ["${local.iam}:role/${each.value}-*"]
  }
  statement {
    sid       = "PassTaskRolesToEcs"
    actions   = ["iam:PassRole"]
    resources = local.task_roles[each.key]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassSchedulerRoles"
    actions   = ["iam:PassRole"]
    resources = local.scheduler_roles[each.key]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
  statement {
    sid       = "PassFlowLogRole"
    actions   = ["iam:PassRole"]
    resources = local.flow_log_roles[each.key]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["vpc-flow-logs.amazonaws.com"]
    }
  }
  statement {
    sid = "PoliciesOfThisEnvironment" # the analysts' policy (modules/analytics)
    actions = [
      "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = ["${local.iam}:policy/${each.value}-*"]
  }
  statement {
    sid       = "ServiceLinkedRoles" # made once per account, on first use of these services
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.iam}:role/aws-service-role/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"]
    }
  }
  statement {
    sid       = "NeverLiftABoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }
  statement {
    sid    = "NeverChangeABoundary"
    effect = "Deny"
    actions = [
      "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy", "iam:UntagPolicy",
    ]
    resources = ["${local.iam}:policy/${var.name_prefix}-permissions-boundary-*"]
  }

  # --- resources named after this environment ---------------------------------------------------
  # Terraform creates, changes and deletes these whole, so every action of the service is allowed on
  # them; the names keep it to this environment (<stack>-…, /flightdelay/<stack>/…).
  statement {
    sid       = "BucketsOfThisEnvironment"
    actions   = ["s3:*"]
    resources = ["arn:${local.partition}:s3:::${each.value}-*"]
  }
  statement {
    sid     = "ServicesNamedAfterThisEnvironment"
    actions = ["athena:*", "cloudwatch:*", "elasticloadbalancing:*", "events:*", "logs:*", "scheduler:*", "sns:*", "sqs:*"]
    resources = [
      "arn:${local.partition}:athena:*:${local.account}:workgroup/${each.value}",
      "arn:${local.partition}:cloudwatch:*:${local.account}:alarm:${each.value}-*",
      "arn:${local.partition}:cloudwatch::${local.account}:dashboard/${each.value}",
      "arn:${local.partition}:elasticloadbalancing:*:${local.account}:loadbalancer/app/${each.value}-*",
      "arn:${local.partition}:elasticloadbalancing:*:${local.account}:targetgroup/${each.value}-*",
      "arn:${local.partition}:elasticloadbalancing:*:${local.account}:listener/app/${each.value}-*",
      "arn:${local.partition}:elasticloadbalancing:*:${local.account}:listener-rule/app/${each.value}-*",
      "arn:${local.partition}:events:*:${local.account}:rule/${each.value}-*",
      "arn:${local.partition}:logs:*:${local.account}:log-group:/flightdelay/${each.value}/*",
      "arn:${local.partition}:scheduler:*:${local.account}:schedule/default/${each.value}-*",
      "arn:${local.partition}:sns:*:${local.account}:${each.value}-*",
      "arn:${local.partition}:sqs:*:${local.account}:${each.value}-*",
    ]
  }
  statement {
    sid       = "CatalogOfThisEnvironment" # the Glue database is <stack> with underscores (modules/analytics)
    actions   = ["glue:*"]
    resources = ["arn:${local.partition}:glue:*:${local.account}:database/${replace(each.value, "-", "_")}", "arn:${local.partition}:glue:*:${local.account}:table/${replace(each.value, "-", "_")}/*"]
  }
  statement {
    sid = "CatalogItself" # every database and table action also names the account's catalog
    actions = [
      "glue:CreateDatabase", "glue:CreateTable", "glue:DeleteDatabase", "glue:DeleteTable", "glue:GetDatabase",
      "glue:GetTable", "glue:GetTables", "glue:UpdateDatabase", "glue:UpdateTable",
    ]
    resources = ["arn:${local.partition}:glue:*:${local.account}:catalog"]
  }
  statement {
    sid = "EcsOfThisEnvironment"
    actions = [
      "ecs:CreateCluster", "ecs:CreateService", "ecs:DeleteCluster", "ecs:DeleteService", "ecs:PutClusterCapacityProviders",
      "ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:UntagResource", "ecs:UpdateCluster",
      "ecs:UpdateClusterSettings", "ecs:UpdateService",
    ]
    resources = [
      "arn:${local.partition}:ecs:*:${local.account}:cluster/${each.value}",
      "arn:${local.partition}:ecs:*:${local.account}:service/${each.value}/*",
      "arn:${local.partition}:ecs:*:${local.account}:task-definition/${each.value}-*:*",
    ]
  }
  statement {
    sid       = "DeregisterTaskDefinitions"
    actions   = ["ecs:DeregisterTaskDefinition"]
    resources = ["*"] # DeregisterTaskDefinition takes no resource (see the ECS table above the deploy role)
  }
  statement {
    sid       = "ParametersOfThisEnvironment" # the image tag (String); the key is denied above
    actions   = ["ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter", "ssm:RemoveTagsFromResource"]
    resources = ["arn:${local.partition}:ssm:*:${local.account}:parameter/${each.value}/*"]
  }
  statement {
    sid       = "SecretsOfThisEnvironment" # the Docker Hub secret's metadata, never its value
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret"]
    resources = ["arn:${local.partition}:secretsmanager:*:${local.account}:secret:${each.value}-*"]
  }
  statement {
    sid       = "KeyAliasesOfThisEnvironment"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:alias/${each.value}-*"]
  }

  # --- resources whose IDs AWS assigns ----------------------------------------------------------
  statement {
    sid       = "CreateKeys"
    actions   = ["kms:CreateKey"]
    resources = ["*"] # CreateKey has no resource: the key does not exist yet
  }
  statement {
    sid       = "ManageKeys"
    actions   = local.key_actions
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"] # key IDs are AWS's; other environments' keys are denied below
  }
  statement {
    sid       = "Network"
    actions   = local.network_actions
    resources = ["*"] # VPC, subnet, route table, gateway and security group IDs are AWS's; other environments' are denied below
  }
  statement {
    sid       = "ApiAutoscaling"
    actions   = local.autoscaling_actions
    resources = ["*"] # scalable targets get AWS-made IDs; other environments' are denied below
  }
  statement {
    # Application Auto Scaling checks that the caller may manage the alarms of a target tracking
    # policy (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/auto-scaling-IAM.html);
    # it names them TargetTracking-<resource id>-…, the resource id being service/<cluster>/<service>.
    sid       = "ApiAutoscalingAlarms"
    actions   = ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"]
    resources = ["arn:${local.partition}:cloudwatch:*:${local.account}:alarm:TargetTracking-service/${each.value}/*"]
  }
  statement {
    # Every EC2 and scaling action, and the key actions above (not kms:Decrypt: the state key is the
    # account's, and is used through S3 only).
    sid       = "OtherEnvironmentsResources"
    effect    = "Deny"
    actions   = concat(["application-autoscaling:*", "ec2:*"], local.key_actions)
    resources = ["*"]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/Environment"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }
}

resource "aws_iam_role" "terraform_apply" {
  for_each           = local.stack
  name               = "${var.name_prefix}-github-${each.key}-terraform-apply" # outside the ${each.value}-* it may change
  assume_role_policy = data.aws_iam_policy_document.trust[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_apply_read" {
  for_each   = local.stack
  role       = aws_iam_role.terraform_apply[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess" # refresh reads everything it manages
}

resource "aws_iam_role_policy_attachment" "terraform_apply_never_read_secrets" {
  for_each   = local.stack
  role       = aws_iam_role.terraform_apply[each.key].name
  policy_arn = aws_iam_policy.never_read_secrets.arn
}

resource "aws_iam_role_policy" "terraform_apply" {
  for_each = local.stack
  name     = "apply-${each.key}"
  role     = aws_iam_role.terraform_apply[each.key].id
  policy   = data.aws_iam_policy_document.apply[each.key].json
}
