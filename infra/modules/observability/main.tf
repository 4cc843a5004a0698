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
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
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
  alarm_description   = "The API or its load balancer answered 5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.alb.arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.thresholds.alb_5xx_per_5min
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
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
  alarm_description   = "A task fails the /ready health check (no model loaded, or down)"
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

# The fetcher logs one "fetch run" line per run; a successful one counts here.
resource "aws_cloudwatch_log_metric_filter" "fetch_succeeded" {
  count          = contains(var.services, "fetcher") ? 1 : 0
  name           = "${var.name_prefix}-fetch-succeeded"
  log_group_name = aws_cloudwatch_log_group.this["fetcher"].name
  pattern        = "{ $.message = \"fetch run\" && $.status = \"succeeded\" }"
  metric_transformation {
    name          = "FetchSucceeded"
    namespace     = "flightdelay/${var.name_prefix}"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "fetch_stale" {
  count               = contains(var.services, "fetcher") ? 1 : 0
  alarm_name          = "${var.name_prefix}-no-successful-fetch"
  alarm_description   = "No successful fetch in ${var.thresholds.fetch_freshness_hours} hours"
  namespace           = "flightdelay/${var.name_prefix}"
  metric_name         = "FetchSucceeded"
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
        title = "ECS CPU and memory", region = local.region, stat = "Average", period = 300
        metrics = [
          ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name],
          [".", "MemoryUtilization", ".", "."],
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
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  # The two API widgets only once the API's load balancer exists.
  dashboard_body = jsonencode({ widgets = var.alb == null ? slice(local.widgets, 2, 4) : local.widgets })
}
