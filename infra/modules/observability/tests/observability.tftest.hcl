mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix             = "flightdelay-test"
  cluster_name            = "flightdelay-test"
  alb                     = { arn_suffix = "app/fd/123", target_group_arn_suffix = "targetgroup/fd/456" }
  dead_letter_queue_names = { fetcher = "fd-fetcher-dlq", evaluator = "fd-evaluator-dlq" }
}

run "every_alarm_is_wired_to_the_topic" {
  command = plan
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.alb_5xx) == 1 && length(aws_cloudwatch_metric_alarm.target_p99) == 1 && length(aws_cloudwatch_metric_alarm.unhealthy_hosts) == 1
    error_message = "the API alarms exist when an ALB is given"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.task_failures) == 2
    error_message = "one failure alarm per scheduled task"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.fetch_stale[0].evaluation_periods * aws_cloudwatch_metric_alarm.fetch_stale[0].period == 26 * 3600 && aws_cloudwatch_metric_alarm.fetch_stale[0].treat_missing_data == "breaching"
    error_message = "no successful fetch in 26 hours must alarm"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 90])
    error_message = "log groups keep 90 days by default"
  }
}
