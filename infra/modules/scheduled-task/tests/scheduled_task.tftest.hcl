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
  name                = "fd-test-fetcher"
  schedule_expression = "cron(30 2 * * ? *)"
  cluster_arn         = "arn:aws:ecs:us-east-1:123456789012:cluster/fd-test"
  vpc_id              = "vpc-1"
  subnet_ids          = ["subnet-c"]
  container = {
    image   = "example/fetcher:bootstrap"
    secrets = { FLIGHTDELAY_AVIATIONSTACK_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/fd/key" }
  }
  roles          = { task_exec_arn = "arn:aws:iam::123456789012:role/exec", task_arn = "arn:aws:iam::123456789012:role/fetcher" }
  log_group_name = "/flightdelay/test/fetcher"
}

run "the_schedule_runs_this_task_family_with_retries_and_a_dlq" {
  command = plan
  assert {
    condition     = one(one(aws_scheduler_schedule.this.target).ecs_parameters).task_definition_arn == "arn:aws:ecs:us-east-1:123456789012:task-definition/fd-test-fetcher"
    error_message = "the schedule must target this task's family"
  }
  assert {
    condition     = one(one(aws_scheduler_schedule.this.target).retry_policy).maximum_retry_attempts == 2
    error_message = "runs are retried"
  }
  assert {
    condition     = length(one(aws_scheduler_schedule.this.target).dead_letter_config) == 1
    error_message = "failed runs go to a dead-letter queue"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets[0].name == "FLIGHTDELAY_AVIATIONSTACK_KEY"
    error_message = "the key comes from SSM, never from plain environment"
  }
  assert {
    condition     = toset(data.aws_iam_policy_document.scheduler.statement[1].resources) == toset(["arn:aws:iam::123456789012:role/exec", "arn:aws:iam::123456789012:role/fetcher"])
    error_message = "the scheduler may pass only this task's two roles"
  }
}

run "the_scheduler_role_carries_the_boundary_it_is_given" {
  command = plan
  variables {
    permissions_boundary = "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test"
  }
  assert {
    condition     = aws_iam_role.scheduler.permissions_boundary == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test"
    error_message = "the scheduler role carries the environment's permissions boundary"
  }
}
