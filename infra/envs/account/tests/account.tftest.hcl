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
  github_repository = "example-org/flightdelay"
}

run "one_state_bucket_and_roles_per_environment" {
  command = plan
  assert {
    condition     = toset(keys(output.github_variables.environments)) == toset(["dev", "prod"])
    error_message = "dev and prod each get their roles"
  }
}
