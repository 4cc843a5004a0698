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
    defaults = { insecure_value = "abc123" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

run "the_dev_environment_plans" {
  command = plan
  assert {
    condition = output.task_families == {
      api        = "flightdelay-dev-api", fetcher = "flightdelay-dev-fetcher",
      evaluator  = "flightdelay-dev-evaluator", training = "flightdelay-dev-training",
      conditions = "flightdelay-dev-conditions",
    }
    error_message = "every task family is named for the dev environment"
  }
}

run "every_role_carries_the_boundary_envs_account_made" {
  command = plan
  assert {
    condition     = local.permissions_boundary == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-dev"
    error_message = "the dev roles carry the boundary modules/github-oidc names flightdelay-permissions-boundary-dev (the apply role requires it)"
  }
}

run "the_alarm_topic_is_an_output" {
  command = plan
  override_resource {
    target          = module.flightdelay.module.observability.aws_sns_topic.alarms
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:flightdelay-dev-alarms" }
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:flightdelay-dev-alarms"
    error_message = "the dev root names the alarm topic (subscribe a pager to it)"
  }
}
