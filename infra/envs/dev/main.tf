# The dev environment: the whole stack with dev's settings.
provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "flightdelay", Environment = "dev", ManagedBy = "terraform" }
  }
}

module "flightdelay" {
  source = "../../modules/stack"

  environment                = "dev"
  image_registry             = var.image_registry
  dockerhub_namespace        = var.dockerhub_namespace
  certificate_arn            = var.certificate_arn == "" ? null : var.certificate_arn
  alarm_email                = var.alarm_email == "" ? null : var.alarm_email
  nat_gateway_mode           = "single"
  api_task                   = { desired_count = 1, min_count = 1, max_count = 3 }
  enable_deletion_protection = false
  force_destroy              = true # a throwaway environment
}
