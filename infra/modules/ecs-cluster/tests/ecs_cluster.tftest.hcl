mock_provider "aws" {}

variables {
  name = "flightdelay-test"
}

run "container_insights_and_both_capacity_providers" {
  command = plan
  assert {
    condition     = one(aws_ecs_cluster.this.setting).value == "enabled"
    error_message = "Container Insights must be on"
  }
  assert {
    condition     = toset(aws_ecs_cluster_capacity_providers.this.capacity_providers) == toset(["FARGATE", "FARGATE_SPOT"])
    error_message = "both Fargate capacity providers must be attached"
  }
}
