mock_provider "aws" {}

variables {
  name_prefix = "flightdelay"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/test"
}

run "one_immutable_scanned_repository_per_image" {
  command = plan
  assert {
    condition     = length(aws_ecr_repository.this) == 4 && alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE" && r.image_scanning_configuration[0].scan_on_push])
    error_message = "four repositories, immutable tags, scan on push"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.dockerhub) == 0
    error_message = "no Docker Hub secret with ECR"
  }
}

run "docker_hub_instead" {
  command = plan
  variables {
    image_registry      = "dockerhub"
    dockerhub_namespace = "example"
  }
  assert {
    condition     = length(aws_ecr_repository.this) == 0 && length(aws_secretsmanager_secret.dockerhub) == 1
    error_message = "Docker Hub: no repository, one pull secret"
  }
  assert {
    condition     = output.image_repositories["api"] == "docker.io/example/flightdelay-api"
    error_message = "images come from Docker Hub"
  }
}
