# Log groups (KMS), an alarm topic, alarms on the API and the daily tasks, and a dashboard.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

# CloudWatch Logs and SNS must be allowed to use the key, for this account's resources only
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself.
  # checkov:skip=CKV_AWS_356:Same: in a key policy "*" means this key only.
  # checkov:skip=CKV_AWS_109:Same: the account root administers the key, as AWS's default key policy does.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogsUseKey"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }
  statement {
    sid       = "AlarmsAndEventsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: logs and alarms"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338:Retention is a variable (90 days by default); raise it where a year is required.
  for_each          = toset(var.services)
  name              = "/flightdelay/${var.name_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = merge(var.tags, { Service = each.key })
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.this.id
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- the API ------------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  count               = var.alb == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-api-5xx"
  alarm_description   = "The API answered 5xx, or its load balancer did (502/503/504: no healthy task, a crash, a timeout)"
  evaluation_periods  = 1
  threshold           = var.thresholds.alb_5xx_per_5min
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "errors"
    expression  = "FILL(target, 0) + FILL(elb, 0)"
    label       = "5xx from the tasks and from the load balancer"
    return_data = true
  }
  dynamic "metric_query" {
    for_each = { target = "HTTPCode_Target_5XX_Count", elb = "HTTPCode_ELB_5XX_Count" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = metric_query.value
        dimensions  = { LoadBalancer = var.alb.arn_suffix }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "target_p99" {
  count               = var.alb == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-api-p99-latency"
  alarm_description   = "p99 target response time above the threshold for 15 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.alb.arn_suffix }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.thresholds.target_p99_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  count               = var.alb == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-api-unhealthy-hosts"
  alarm_description   = "A task fails the /health liveness check (down or hung)"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = var.alb.arn_suffix, TargetGroup = var.alb.target_group_arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# UnHealthyHostCount stays 0 when no target is registered at all (every task failed to start, or
# the service has none): this one alarms when nothing healthy serves, whatever the reason.
resource "aws_cloudwatch_metric_alarm" "no_healthy_hosts" {
  count               = var.alb == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-api-no-healthy-hosts"
  alarm_description   = "No API task passes the load balancer's health check for 3 minutes: every request gets a 503"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { TargetGroup = var.alb.target_group_arn_suffix, LoadBalancer = var.alb.arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching" # no datapoint: no target registered, nothing serves
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# --- the daily tasks ------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "task_failures" {
  for_each            = var.dead_letter_queue_names
  alarm_name          = "${var.name_prefix}-${each.key}-schedule-failed"
  alarm_description   = "The scheduler could not run the ${each.key} task (a message reached its dead-letter queue)"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# The fetcher logs one "fetch run" line per run, success or failure (services/fetcher/fetch.py), as
# a JSON line on stdout that the awslogs driver puts in its log group: {"message": "fetch run",
# "status": "succeeded", "kept": 1234, ...}. A succeeded run that kept flights counts 1.
resource "aws_cloudwatch_log_metric_filter" "fetch_succeeded" {
  count          = contains(var.services, "fetcher") ? 1 : 0
  name           = "${var.name_prefix}-fetch-succeeded"
  log_group_name = aws_cloudwatch_log_group.this["fetcher"].name
  pattern        = "{ $.message = \"fetch run\" && $.status = \"succeeded\" && $.kept > 0 }"
  metric_transformation {
    name          = "FetchSucceeded"
    namespace     = "flightdelay/${var.name_prefix}"
    value         = "1"
    default_value = "0"
  }
}

# Sum < 1 over the span, hour by hour: every hour of it without a success breaches. The fetcher runs
# once a day, so most hours have no fetcher log at all; those must count as breaching, or the alarm
# could never fire (a failing run breaches one hour a day, never 26 in a row; a fetcher that never
# runs breaches none). A new environment therefore alarms until its first successful fetch.
# Periods of an hour may span up to 7 days (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
resource "aws_cloudwatch_metric_alarm" "fetch_stale" {
  count               = contains(var.services, "fetcher") ? 1 : 0
  alarm_name          = "${var.name_prefix}-no-successful-fetch"
  alarm_description   = "No fetch that kept flights in ${var.thresholds.fetch_freshness_hours} hours (a failing fetcher, or one that never ran)"
  namespace           = one(aws_cloudwatch_log_metric_filter.fetch_succeeded[0].metric_transformation).namespace
  metric_name         = one(aws_cloudwatch_log_metric_filter.fetch_succeeded[0].metric_transformation).name
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.thresholds.fetch_freshness_hours
  datapoints_to_alarm = var.thresholds.fetch_freshness_hours # every hour of the span without a success
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# The evaluator's daily watch of the live model logs its figures in CloudWatch embedded metric
# format (services/evaluator/monitor.py): CloudWatch Logs makes them metrics of this namespace.
resource "aws_cloudwatch_metric_alarm" "live_quality" {
  count               = contains(var.services, "evaluator") ? 1 : 0
  alarm_name          = "${var.name_prefix}-live-model-below-bar"
  alarm_description   = "The live model's ROC-AUC on yesterday's real outcomes fell below ${var.thresholds.live_min_roc_auc}"
  namespace           = "flightdelay/${var.name_prefix}"
  metric_name         = "LiveRocAuc"
  statistic           = "Minimum"
  period              = 86400
  evaluation_periods  = 1
  threshold           = var.thresholds.live_min_roc_auc
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching" # a day nobody asked about has no live quality
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "drift" {
  count               = contains(var.services, "evaluator") ? 1 : 0
  alarm_name          = "${var.name_prefix}-data-drift"
  alarm_description   = "The last 7 days of flights moved from the live model's training data (an input's PSI over FLIGHTDELAY_MONITOR_DRIFT_PSI, or the late share by half of it): retrain"
  namespace           = "flightdelay/${var.name_prefix}"
  metric_name         = "DriftDetected" # 1 when the evaluator's watch found drift, else 0
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

locals {
  region = data.aws_region.current.name
  alb_id = try(var.alb.arn_suffix, "")
  widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title = "API requests and 5xx", region = local.region, stat = "Sum", period = 60
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", local.alb_id],
          [".", "HTTPCode_Target_5XX_Count", ".", "."],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title   = "API latency (p99)", region = local.region, stat = "p99", period = 60
        metrics = [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.alb_id]]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        # Fargate publishes CPU and memory per service, not per cluster (that is for EC2 capacity).
        title = "API tasks: CPU and memory (%)", region = local.region, stat = "Average", period = 300
        metrics = [
          ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", coalesce(var.api_service_name, "-")],
          [".", "MemoryUtilization", ".", ".", ".", "."],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title   = "Successful fetches", region = local.region, stat = "Sum", period = 3600
        metrics = [["flightdelay/${var.name_prefix}", "FetchSucceeded"]]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title   = "Live model on real outcomes (daily)", region = local.region, stat = "Average", period = 86400
        metrics = [["flightdelay/${var.name_prefix}", "LiveRocAuc"], [".", "LiveFlagAccuracy"], [".", "LiveBrier"]]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title   = "Drift from the training data (daily)", region = local.region, stat = "Maximum", period = 86400
        metrics = [["flightdelay/${var.name_prefix}", "DriftMaxPsi"], [".", "RecentLateShare"]]
      }
    },
  ]
}

# A task of this cluster that ECS could not start (image pull, secret, network: stopCode
# TaskFailedToStart, no exit code at all), or a scheduled task that ended with a failing exit code
# (ECS "Task State Change" events, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html)
# → the alarm topic. The schedules' dead-letter queues catch only a RunTask call that failed; a task
# that was started and then could not run is caught here. The evaluator's 10/11/12 (rejected, no
# decision, nothing to evaluate) are verdicts, not failures. The API's own exits are left to the
# load balancer alarms (a deployment or a scale-in stops its tasks on purpose).
locals {
  failed_to_start = { stopCode = ["TaskFailedToStart"] }
  failed_exit = {
    group      = [for family in values(var.task_families) : "family:${family}"]
    containers = { exitCode = [{ "anything-but" = var.success_exit_codes }] }
  }
  task_event        = { source = ["aws.ecs"], "detail-type" = ["ECS Task State Change"] }
  task_failed_match = { clusterArn = [var.cluster_arn], lastStatus = ["STOPPED"] }
}

resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = "${var.name_prefix}-task-failed"
  description = "A task of ${var.name_prefix} failed to start, or a scheduled one stopped with a failing exit code"
  # "$or" needs two branches: without a scheduled task the pattern is the failed start alone.
  event_pattern = (length(var.task_families) > 0
    ? jsonencode(merge(local.task_event, { detail = merge(local.task_failed_match, { "$or" = [local.failed_to_start, local.failed_exit] }) }))
    : jsonencode(merge(local.task_event, { detail = merge(local.task_failed_match, local.failed_to_start) }))
  )
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "task_failed" {
  rule = aws_cloudwatch_event_rule.task_failed.name
  arn  = aws_sns_topic.alarms.arn
}

# Both used to exist only with scheduled tasks (count); they now always exist.
moved {
  from = aws_cloudwatch_event_rule.task_failed[0]
  to   = aws_cloudwatch_event_rule.task_failed
}

moved {
  from = aws_cloudwatch_event_target.task_failed[0]
  to   = aws_cloudwatch_event_target.task_failed
}

data "aws_iam_policy_document" "alarm_topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
  statement {
    sid       = "TaskFailureEventsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.task_failed.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarm_topic.json
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  # The two API widgets only once the API's load balancer exists.
  dashboard_body = jsonencode({ widgets = var.alb == null ? slice(local.widgets, 2, 4) : local.widgets })
}
