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
  cluster_arn             = "arn:aws:ecs:us-east-1:123456789012:cluster/flightdelay-test"
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

# The fetcher's one line per run (services/fetcher/fetch.py, "fetch run"), as flightdelay.logs writes
# it to stdout and the awslogs driver puts it in the fetcher's log group:
#   {"time": "...", "level": "INFO", "logger": "...", "message": "fetch run", "status": "succeeded",
#    "date": "2026-11-22", "kept": 1234, "run_id": "..."}
run "a_day_without_a_fetch_that_kept_flights_alarms" {
  command = plan
  assert {
    condition     = aws_cloudwatch_log_metric_filter.fetch_succeeded[0].pattern == "{ $.message = \"fetch run\" && $.status = \"succeeded\" && $.kept > 0 }"
    error_message = "the filter counts the fetcher's own summary line: a succeeded run that kept flights"
  }
  assert {
    condition     = aws_cloudwatch_log_metric_filter.fetch_succeeded[0].log_group_name == "/flightdelay/flightdelay-test/fetcher"
    error_message = "the filter reads the fetcher's log group"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.fetch_stale[0].namespace == one(aws_cloudwatch_log_metric_filter.fetch_succeeded[0].metric_transformation).namespace
    && aws_cloudwatch_metric_alarm.fetch_stale[0].metric_name == one(aws_cloudwatch_log_metric_filter.fetch_succeeded[0].metric_transformation).name)
    error_message = "the alarm watches the metric the filter emits"
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.fetch_stale[0].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.fetch_stale[0].threshold == 1
      && aws_cloudwatch_metric_alarm.fetch_stale[0].comparison_operator == "LessThanThreshold"
      && aws_cloudwatch_metric_alarm.fetch_stale[0].period * aws_cloudwatch_metric_alarm.fetch_stale[0].evaluation_periods == 26 * 3600
    && aws_cloudwatch_metric_alarm.fetch_stale[0].datapoints_to_alarm == aws_cloudwatch_metric_alarm.fetch_stale[0].evaluation_periods)
    error_message = "fewer than one successful fetch in 26 hours alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.fetch_stale[0].treat_missing_data == "breaching"
    error_message = "an hour without any fetcher log counts as no success: a fetcher that never runs, or never starts, alarms"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.fetch_stale[0].alarm_actions) == 1
    error_message = "the alarm notifies the alarm topic"
  }
}

run "a_task_that_fails_to_start_or_exits_with_a_failure_alarms" {
  command = plan
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail.clusterArn == ["arn:aws:ecs:us-east-1:123456789012:cluster/flightdelay-test"]
    error_message = "the rule watches this environment's cluster only"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail.lastStatus == ["STOPPED"] && jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern)["detail-type"] == ["ECS Task State Change"]
    error_message = "the rule matches stopped tasks"
  }
  assert {
    condition     = contains(jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail["$or"], { stopCode = ["TaskFailedToStart"] })
    error_message = "a task ECS could not start (image pull, secret, network), of any family, alarms"
  }
  assert {
    condition = anytrue([for b in jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail["$or"] :
      try(b.containers.exitCode[0]["anything-but"] == [0, 10, 11, 12]
      && toset(b.group) == toset(["family:flightdelay-test-fetcher", "family:flightdelay-test-evaluator"]), false)
    ])
    error_message = "a scheduled task that exits with a failing code alarms (the evaluator's verdicts 10/11/12 are not failures)"
  }
  assert {
    condition     = aws_cloudwatch_event_target.task_failed.rule == "flightdelay-test-task-failed"
    error_message = "failures reach the alarm topic through the rule's target"
  }
}

run "a_task_that_fails_to_start_alarms_without_scheduled_tasks" {
  command = plan
  variables {
    task_families = {}
  }
  assert {
    condition     = aws_cloudwatch_event_target.task_failed.rule == "flightdelay-test-task-failed"
    error_message = "the rule and its target exist for the API's tasks too"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail.stopCode == ["TaskFailedToStart"] && jsondecode(aws_cloudwatch_event_rule.task_failed.event_pattern).detail.clusterArn == ["arn:aws:ecs:us-east-1:123456789012:cluster/flightdelay-test"]
    error_message = "with no scheduled task, the rule matches tasks of this cluster that failed to start"
  }
}

run "no_healthy_target_alarms" {
  command = plan
  assert {
    condition = (aws_cloudwatch_metric_alarm.no_healthy_hosts[0].namespace == "AWS/ApplicationELB"
      && aws_cloudwatch_metric_alarm.no_healthy_hosts[0].metric_name == "HealthyHostCount"
    && aws_cloudwatch_metric_alarm.no_healthy_hosts[0].dimensions == tomap({ TargetGroup = "targetgroup/fd/456", LoadBalancer = "app/fd/123" }))
    error_message = "the alarm reads the healthy targets of the API's target group on its load balancer"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.no_healthy_hosts[0].threshold == 1 && aws_cloudwatch_metric_alarm.no_healthy_hosts[0].comparison_operator == "LessThanThreshold"
    error_message = "fewer than one healthy target alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.no_healthy_hosts[0].treat_missing_data == "breaching"
    error_message = "no datapoint (no target registered at all) is no healthy target"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.no_healthy_hosts[0].alarm_actions) == 1
    error_message = "the alarm notifies the alarm topic"
  }
}

run "the_alarm_topic_is_an_output" {
  command = plan
  override_resource {
    target          = aws_sns_topic.alarms
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:flightdelay-test-alarms" }
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:flightdelay-test-alarms"
    error_message = "the alarm topic's ARN is an output (subscribe a pager or a chat to it)"
  }
}
