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
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a", "us-east-1b"] }
  }
  mock_data "aws_ssm_parameter" {
    defaults = { insecure_value = "0123abc" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}


variables {
  environment = "dev"
}

run "the_whole_stack_plans_with_one_schedule_per_task" {
  command = plan

  assert {
    condition     = toset(keys(module.schedule)) == toset(["fetcher", "conditions", "evaluator", "training"])
    error_message = "fetcher, conditions, evaluator and training each get a schedule"
  }
  assert {
    condition     = module.schedule["fetcher"].task_family == "flightdelay-dev-fetcher" && module.schedule["training"].task_family == "flightdelay-dev-training"
    error_message = "each schedule targets its own task family"
  }
  assert {
    condition     = output.task_families["api"] == "flightdelay-dev-api"
    error_message = "the API's task family is named for the environment"
  }
}

run "the_environment_name_is_validated" {
  command = plan
  variables {
    environment = "Prod Env"
  }
  expect_failures = [var.environment]
}

run "the_alarm_topic_is_an_output" {
  command = plan
  override_resource {
    target          = module.observability.aws_sns_topic.alarms
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:flightdelay-dev-alarms" }
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:flightdelay-dev-alarms"
    error_message = "the stack names the alarm topic (subscribe a pager to it)"
  }
}
