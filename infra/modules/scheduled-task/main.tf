# An ECS task run on a schedule by EventBridge Scheduler, with retries and a dead-letter queue.
# The schedule targets the task definition family (no revision), so it always runs the latest
# revision the deploy workflow registered.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  family_arn = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:task-definition/${var.name}"
  container = {
    name                   = "task"
    image                  = var.container.image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001"
    command                = length(var.container.command) > 0 ? var.container.command : null
    environment            = [for k, v in var.container.environment : { name = k, value = v }]
    secrets                = [for k, v in var.container.secrets : { name = k, valueFrom = v }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = var.log_group_name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "task"
      }
    }
    repositoryCredentials = var.repository_credentials_arn == null ? null : { credentialsParameter = var.repository_credentials_arn }
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.container.cpu
  memory                   = var.container.memory
  execution_role_arn       = var.roles.task_exec_arn
  task_role_arn            = var.roles.task_arn
  container_definitions    = jsonencode([{ for k, v in local.container : k => v if v != null }])
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  tags = var.tags
}

resource "aws_security_group" "this" {
  # checkov:skip=CKV2_AWS_5:Attached to the task by the schedule's network configuration, which checkov does not follow.
  name_prefix = "${var.name}-"
  description = "Scheduled task ${var.name}: HTTPS out only"
  vpc_id      = var.vpc_id
  tags        = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs and the Aviation Stack API"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600 # 14 days to look at a failed run
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

# The scheduler acts for this account's schedule only
# (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    sid     = "SchedulerAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunTheTask"
    actions   = ["ecs:RunTask"]
    resources = [local.family_arn, "${local.family_arn}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    sid       = "PassTheTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [var.roles.task_exec_arn, var.roles.task_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "ReportFailedRuns"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name_prefix          = "${substr(var.name, 0, 28)}-sched-"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_trust.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-${var.name}"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  # checkov:skip=CKV_AWS_297:The schedule holds no secret (a task family and subnets); kms_key_arn selects a CMK where policy requires one.
  name                         = var.name
  kms_key_arn                  = var.kms_key_arn
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler.arn
    ecs_parameters {
      task_definition_arn = local.family_arn
      launch_type         = "FARGATE"
      task_count          = 1
      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = [aws_security_group.this.id]
        assign_public_ip = false
      }
    }
    retry_policy {
      maximum_retry_attempts       = var.retry.maximum_retry_attempts
      maximum_event_age_in_seconds = var.retry.maximum_event_age_in_seconds
    }
    dead_letter_config {
      arn = aws_sqs_queue.dead_letter.arn
    }
  }
  depends_on = [aws_ecs_task_definition.this]
  lifecycle {
    # The deploy (scripts/deploy.py) owns which revision runs, as for the API service: Terraform
    # creates the schedule on the bare family, and an apply must not undo a deploy's pin (after a
    # failed deploy, the bare family would run the failed image, its newest revision).
    ignore_changes = [target[0].ecs_parameters[0].task_definition_arn]
  }
}
