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

run "the_deployed_tags_of_every_environment_are_kept" {
  command = plan
  variables {
    environments = ["dev", "staging", "prod"]
  }
  assert {
    condition     = jsondecode(module.ecr.lifecycle_policy).rules[0].selection.tagPrefixList == ["dev-", "staging-", "prod-"]
    error_message = "the ECR lifecycle never expires an image tagged for one of the account's environments"
  }
  assert {
    condition     = toset(keys(output.permissions_boundaries)) == toset(["dev", "staging", "prod"])
    error_message = "each environment gets its permissions boundary"
  }
}
