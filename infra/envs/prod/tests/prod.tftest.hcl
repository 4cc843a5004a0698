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

# Prod over plain HTTP fails the api-service check "https_listener": a warning at plan, an error in
# a test (and a nested module's check cannot be an expected failure here). These runs serve HTTPS;
# modules/api-service/tests asserts the warning.
variables {
  certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
}

run "the_prod_environment_plans" {
  command = plan
  assert {
    condition = output.task_families == {
      api        = "flightdelay-prod-api", fetcher = "flightdelay-prod-fetcher",
      evaluator  = "flightdelay-prod-evaluator", training = "flightdelay-prod-training",
      conditions = "flightdelay-prod-conditions",
    }
    error_message = "every task family is named for the prod environment"
  }
}

run "every_role_carries_the_boundary_envs_account_made" {
  command = plan
  assert {
    condition     = local.permissions_boundary == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-prod"
    error_message = "the prod roles carry the boundary modules/github-oidc names flightdelay-permissions-boundary-prod (the apply role requires it)"
  }
}

run "the_alarm_topic_is_an_output" {
  command = plan
  override_resource {
    target          = module.flightdelay.module.observability.aws_sns_topic.alarms
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:flightdelay-prod-alarms" }
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:us-east-1:123456789012:flightdelay-prod-alarms"
    error_message = "the prod root names the alarm topic (subscribe a pager to it)"
  }
}
