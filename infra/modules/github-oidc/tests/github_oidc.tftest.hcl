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
  github_repository          = "example-org/flightdelay"
  environments               = ["dev", "prod"]
  terraform_state_bucket_arn = "arn:aws:s3:::fd-tfstate"
}

run "each_environment_role_is_trusted_by_that_environment_only" {
  command = plan
  assert {
    condition     = [for v in one([for c in data.aws_iam_policy_document.trust["prod"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]) : v] == ["repo:example-org/flightdelay:environment:prod"]
    error_message = "prod's roles trust jobs of the prod environment only (not any job on main)"
  }
  assert {
    condition     = [for v in one([for c in data.aws_iam_policy_document.trust["pull_requests"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]) : v] == ["repo:example-org/flightdelay:pull_request"]
    error_message = "the plan role trusts pull requests of this repository"
  }
}

run "no_workflow_role_can_change_itself_or_another_environment" {
  command = plan
  assert {
    condition     = !startswith(aws_iam_role.terraform_apply["dev"].name, "flightdelay-dev-") && !startswith(aws_iam_role.deploy["dev"].name, "flightdelay-dev-")
    error_message = "the workflow roles are outside the flightdelay-dev-* names the apply role may change"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.apply["dev"].statement :
    alltrue([for r in s.resources : !strcontains(r, "flightdelay-prod")])])
    error_message = "dev's apply role touches no prod role, policy, bucket or state"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.apply["dev"].statement : s.resources if s.sid == "StateOfThisEnvironment"]) == toset(["arn:aws:s3:::fd-tfstate/flightdelay/dev/*"])
    error_message = "the apply role writes its own environment's state only"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.deploy["dev"].statement : s.resources if s.sid == "PassOnlyTaskRoles"]) == toset(["arn:aws:iam::123456789012:role/flightdelay-dev-*"])
    error_message = "the deploy role may pass only its environment's roles"
  }
}

run "the_plan_role_writes_only_lock_files" {
  command = plan
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.plan_state.statement :
    alltrue([for r in s.resources : endswith(r, ".tflock")]) if contains(s.actions, "s3:PutObject")])
    error_message = "plan may write and delete the lock files, never a state"
  }
}
