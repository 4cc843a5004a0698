# GitHub Actions → AWS through OIDC, no stored keys. Three roles:
#  - deploy: push images, register task definitions, update the services (main and environments);
#  - terraform-plan: read-only, for pull requests;
#  - terraform-apply: creates the stack, for main and the environments (prod behind an approval).
# Trust conditions follow https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"
  repo         = "repo:${var.github_repository}"
  trusted_main = concat(["${local.repo}:ref:refs/heads/main"], [for e in var.environments : "${local.repo}:environment:${e}"])
}

resource "aws_iam_openid_connect_provider" "github" {
  count           = var.create_oidc_provider ? 1 : 0
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
  tags            = var.tags
}

data "aws_iam_policy_document" "trust" {
  for_each = {
    main_and_environments = local.trusted_main
    pull_requests         = ["${local.repo}:pull_request"]
  }
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

# --- deploy -------------------------------------------------------------------------------------
data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource to scope to
  }
  dynamic "statement" {
    for_each = length(var.deploy.ecr_repository_arns) > 0 ? [1] : []
    content {
      sid = "PushImages"
      actions = [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
        "ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:InitiateLayerUpload", "ecr:PutImage",
        "ecr:UploadLayerPart",
      ]
      resources = var.deploy.ecr_repository_arns
    }
  }
  statement {
    # checkov:skip=CKV_AWS_111:Task definitions have no ARN before registration; AWS supports no resource scoping here.
    # checkov:skip=CKV_AWS_356:Same: ecs:RegisterTaskDefinition and Describe* take no resource.
    sid       = "RegisterTaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"]
    resources = ["*"]
  }
  statement {
    sid       = "UpdateServices"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = var.deploy.service_arns
  }
  statement {
    sid       = "PassOnlyTaskRoles"
    actions   = ["iam:PassRole"]
    resources = var.deploy.task_role_arns
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name_prefix}-github-deploy"
  assume_role_policy   = data.aws_iam_policy_document.trust["main_and_environments"].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "deploy" {
  name   = "push-register-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

# --- terraform ---------------------------------------------------------------------------------
data "aws_iam_policy_document" "state" {
  statement {
    sid       = "ReadWriteState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.terraform_state_bucket_arn}/*"]
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
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "terraform_plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.state.json # plan writes the lock file (use_lockfile)
}

resource "aws_iam_role" "terraform_apply" {
  name               = "${var.name_prefix}-github-terraform-apply"
  assume_role_policy = data.aws_iam_policy_document.trust["main_and_environments"].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform_apply" {
  # checkov:skip=CKV2_AWS_56:The apply role creates the stack's own IAM roles; only main and approved environments can assume it. Narrow terraform_apply_policy_arns to your organisation's boundary.
  for_each   = toset(var.terraform_apply_policy_arns)
  role       = aws_iam_role.terraform_apply.name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "terraform_apply_state" {
  name   = "terraform-state"
  role   = aws_iam_role.terraform_apply.id
  policy = data.aws_iam_policy_document.state.json
}
