# GitHub Actions → AWS through OIDC, no stored keys. Applied once per account (envs/account), by an
# administrator, so that no role a workflow can assume is able to change its own permissions.
#  - per environment: deploy (push images, register task definitions, update the API service) and
#    terraform-apply (create that environment's stack), each trusted only by jobs that run in that
#    GitHub environment (prod's required reviewers therefore gate both);
#  - one terraform-plan role for pull requests: read-only, writes only the state lock files.
# Trust conditions follow https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account      = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:${local.partition}:iam::${local.account}:oidc-provider/token.actions.githubusercontent.com"
  repo         = "repo:${var.github_repository}"
  # What each environment's stack is called: its resources all start with this (modules/stack).
  stack = { for e in var.environments : e => "${var.name_prefix}-${e}" }
  state = "${var.terraform_state_bucket_arn}/${var.name_prefix}"
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

# --- deploy: one role per environment ------------------------------------------------------------
data "aws_iam_policy_document" "deploy" {
  for_each = local.stack
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource to scope to
  }
  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:InitiateLayerUpload", "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = ["arn:${local.partition}:ecr:*:${local.account}:repository/${each.value}/*"]
  }
  statement {
    # checkov:skip=CKV_AWS_111:Task definitions have no ARN before registration; AWS supports no resource scoping here.
    # checkov:skip=CKV_AWS_356:Same: ecs:RegisterTaskDefinition and Describe* take no resource.
    sid       = "RegisterTaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"]
    resources = ["*"]
  }
  statement {
    sid       = "UpdateTheApiService"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = ["arn:${local.partition}:ecs:*:${local.account}:service/${each.value}/*"]
  }
  statement {
    sid       = "RecordTheImageTag"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:*:${local.account}:parameter/${each.value}/image-tag"]
  }
  statement {
    sid       = "PassOnlyTaskRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${each.value}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
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
data "aws_iam_policy_document" "plan_state" {
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

resource "aws_iam_role_policy" "terraform_plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.plan_state.json
}

# --- terraform apply: one role per environment, that environment's resources only ----------------
data "aws_iam_policy_document" "apply" {
  for_each = local.stack
  # checkov:skip=CKV_AWS_111:The apply role creates the stack; services whose resources are named by AWS (VPCs, keys, target groups) cannot be scoped by name.
  # checkov:skip=CKV_AWS_356:Same reason; IAM, S3 and state, where names are ours, are scoped to this environment below.
  # checkov:skip=CKV_AWS_109:Same reason: KMS key policies are written by the stack for its own keys.
  # checkov:skip=CKV_AWS_110:IAM is limited to roles and policies named after this environment; a role it makes cannot be this role.
  # checkov:skip=CKV_AWS_107:No credentials are exposed: the stack reads its own SSM parameters, scoped to this environment.
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
    sid = "StackServices"
    actions = [
      "application-autoscaling:*", "athena:*", "cloudwatch:*", "ec2:*", "ecr:*", "ecs:*",
      "elasticloadbalancing:*", "events:*", "glue:*", "kms:*", "logs:*", "scheduler:*", "sns:*", "sqs:*",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ParametersAndSecretsOfThisEnvironment"
    actions   = ["ssm:*", "secretsmanager:*"]
    resources = ["arn:${local.partition}:ssm:*:${local.account}:parameter/${each.value}/*", "arn:${local.partition}:secretsmanager:*:${local.account}:secret:${each.value}-*"]
  }
  statement {
    sid       = "BucketsOfThisEnvironment"
    actions   = ["s3:*"]
    resources = ["arn:${local.partition}:s3:::${each.value}-*"]
  }
  statement {
    sid = "RolesOfThisEnvironment"
    actions = [
      "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
      "iam:PassRole", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole", "iam:UpdateRoleDescription",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${each.value}-*"]
  }
  statement {
    sid = "PoliciesOfThisEnvironment"
    actions = [
      "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:policy/${each.value}-*"]
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/*"]
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

resource "aws_iam_role_policy" "terraform_apply" {
  for_each = local.stack
  name     = "apply-${each.key}"
  role     = aws_iam_role.terraform_apply[each.key].id
  policy   = data.aws_iam_policy_document.apply[each.key].json
}
