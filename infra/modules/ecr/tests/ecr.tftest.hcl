mock_provider "aws" {}

run "one_immutable_scanned_repository_per_image" {
  command = plan
  assert {
    condition     = length(aws_ecr_repository.this) == 5 && alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE" && r.image_scanning_configuration[0].scan_on_push])
    error_message = "five repositories, immutable tags, scan on push"
  }
  assert {
    condition     = aws_ecr_repository.this["api"].name == "flightdelay/api"
    error_message = "repositories are shared by the account's environments: flightdelay/<image>"
  }
  assert {
    condition     = !aws_ecr_repository.this["api"].force_delete
    error_message = "by default a repository with images is never destroyed"
  }
}

run "force_delete_for_throwaway_accounts" {
  command = plan
  variables {
    force_delete = true
  }
  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.force_delete])
    error_message = "force_delete reaches every repository"
  }
}

# The lifecycle policy as rendered: what an environment runs (tagged <env>-<sha> by the deploy) is
# matched first, by a rule that expires nothing in practice, so no later rule can expire it.
run "an_image_an_environment_runs_is_never_expired" {
  command = plan
  assert {
    condition     = [for r in jsondecode(aws_ecr_lifecycle_policy.this["api"].policy).rules : r.rulePriority] == [1, 2, 3]
    error_message = "three rules, in this order"
  }
  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this["api"].policy).rules[0].selection == {
      tagStatus = "tagged", tagPrefixList = ["dev-", "prod-"], countType = "imageCountMoreThan", countNumber = 10000
    }
    error_message = "the first rule matches every image tagged dev-* or prod-* and keeps 10,000 of them"
  }
  assert {
    condition     = alltrue([for r in jsondecode(aws_ecr_lifecycle_policy.this["api"].policy).rules : r.rulePriority == 1 if contains(keys(r.selection), "tagPrefixList")])
    error_message = "no lower-priority rule selects the protected tags"
  }
  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this["api"].policy).rules[1].selection == { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
    error_message = "untagged images expire after 7 days"
  }
  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this["api"].policy).rules[2].selection == { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }
    error_message = "of the others, the newest 30 are kept; \"any\" comes last, as ECR requires"
  }
  assert {
    condition     = alltrue([for r in aws_ecr_lifecycle_policy.this : r.policy == aws_ecr_lifecycle_policy.this["api"].policy])
    error_message = "every repository has the same rules"
  }
}

run "the_protected_prefixes_follow_the_environments" {
  command = plan
  variables {
    protected_tag_prefixes = ["dev-", "staging-", "prod-"]
  }
  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this["training"].policy).rules[0].selection.tagPrefixList == ["dev-", "staging-", "prod-"]
    error_message = "every environment's deployed tags are protected"
  }
}

run "a_prefix_that_a_commit_sha_could_match_is_refused" {
  command = plan
  variables {
    protected_tag_prefixes = ["a"]
  }
  expect_failures = [var.protected_tag_prefixes]
}
