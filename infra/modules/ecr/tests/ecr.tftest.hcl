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
