# The prod environment: the whole stack with prod's settings.
provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "flightdelay", Environment = "prod", ManagedBy = "terraform" }
  }
}

module "flightdelay" {
  source = "../../modules/stack"

  environment                = "prod"
  image_registry             = var.image_registry
  dockerhub_namespace        = var.dockerhub_namespace
  certificate_arn            = var.certificate_arn == "" ? null : var.certificate_arn
  alarm_email                = var.alarm_email == "" ? null : var.alarm_email
  nat_gateway_mode           = "per_az"
  api_task                   = { desired_count = 2, min_count = 2, max_count = 8 }
  enable_deletion_protection = var.enable_deletion_protection
  force_destroy              = var.force_destroy
}
