mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix                = "fd-test"
  github_repository          = "example-org/flightdelay"
  environments               = ["dev"]
  terraform_state_bucket_arn = "arn:aws:s3:::fd-tfstate"
  deploy = {
    ecr_repository_arns = ["arn:aws:ecr:us-east-1:123456789012:repository/flightdelay/api"]
    cluster_arn         = "arn:aws:ecs:us-east-1:123456789012:cluster/fd"
    service_arns        = ["arn:aws:ecs:us-east-1:123456789012:service/fd/fd-api"]
    task_role_arns      = ["arn:aws:iam::123456789012:role/fd-api-task"]
  }
}

run "only_this_repository_main_and_environments_may_deploy" {
  command = plan
  assert {
    condition = toset(one([for c in data.aws_iam_policy_document.trust["main_and_environments"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])) == toset([
      "repo:example-org/flightdelay:ref:refs/heads/main", "repo:example-org/flightdelay:environment:dev",
    ])
    error_message = "the deploy trust must name this repository's main branch and environments only"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.deploy.statement : alltrue([for a in s.actions : !endswith(a, "*")])])
    error_message = "no * action in the deploy policy"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.deploy.statement : s.resources if s.sid == "PassOnlyTaskRoles"])) == toset(["arn:aws:iam::123456789012:role/fd-api-task"])
    error_message = "the deploy role may pass only the task roles"
  }
}
