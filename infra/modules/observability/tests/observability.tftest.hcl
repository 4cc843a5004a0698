mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
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
  api_service_name        = "flightdelay-test-api"
  task_families           = { fetcher = "flightdelay-test-fetcher", evaluator = "flightdelay-test-evaluator" }
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
    condition     = aws_cloudwatch_metric_alarm.fetch_stale[0].evaluation_periods * aws_cloudwatch_metric_alarm.fetch_stale[0].period == 26 * 3600 && aws_cloudwatch_metric_alarm.fetch_stale[0].treat_missing_data == "notBreaching"
    error_message = "26 hours of fetcher runs without a success alarm; a new environment with no run yet does not"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 90])
    error_message = "log groups keep 90 days by default"
  }
}

run "the_5xx_alarm_counts_the_load_balancers_own_errors" {
  command = plan
  assert {
    condition     = toset([for q in aws_cloudwatch_metric_alarm.alb_5xx[0].metric_query : one(q.metric).metric_name if length(q.metric) > 0]) == toset(["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"])
    error_message = "502/503/504 from the ALB (no healthy task) must alarm too"
  }
}

run "a_failing_exit_code_of_a_scheduled_task_alarms" {
  command = plan
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.task_failed[0].event_pattern).detail.group == ["family:flightdelay-test-fetcher", "family:flightdelay-test-evaluator"] || toset(jsondecode(aws_cloudwatch_event_rule.task_failed[0].event_pattern).detail.group) == toset(["family:flightdelay-test-fetcher", "family:flightdelay-test-evaluator"])
    error_message = "the rule watches the scheduled task families"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.task_failed[0].event_pattern).detail.containers.exitCode[0]["anything-but"] == [0, 10, 11, 12]
    error_message = "verdicts (10 rejected, 11 no decision, 12 nothing to evaluate) are not failures"
  }
  assert {
    condition     = aws_cloudwatch_event_target.task_failed[0].rule == "flightdelay-test-task-failed"
    error_message = "failures reach the alarm topic through the rule's target"
  }
}

run "the_dashboard_shows_the_api_service_not_the_cluster" {
  command = plan
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"ServiceName\",\"flightdelay-test-api\"")
    error_message = "Fargate publishes CPU and memory per service: the widget must name the service"
  }
}

run "the_live_model_and_drift_alarms_read_the_evaluators_embedded_metrics" {
  command = plan
  assert {
    condition = (aws_cloudwatch_metric_alarm.live_quality[0].metric_name == "LiveRocAuc"
      && aws_cloudwatch_metric_alarm.live_quality[0].threshold == 0.6
      && aws_cloudwatch_metric_alarm.live_quality[0].comparison_operator == "LessThanThreshold"
    && aws_cloudwatch_metric_alarm.live_quality[0].namespace == "flightdelay/flightdelay-test")
    error_message = "live ROC-AUC below the evaluator's bar alarms, in the namespace the stack gives the evaluator"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.drift[0].metric_name == "DriftDetected" && aws_cloudwatch_metric_alarm.drift[0].threshold == 1
    error_message = "a day whose watch found drift alarms"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.drift[0].alarm_actions) == 1 && length(aws_cloudwatch_metric_alarm.live_quality[0].alarm_actions) == 1
    error_message = "both alarms notify the alarm topic"
  }
}
