# The prod environment: the whole stack with prod's settings.
provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "flightdelay", Environment = "prod", ManagedBy = "terraform" }
  }
}

module "flightdelay" {
  source = "../../modules/stack"

  environment                 = "prod"
  github_repository           = var.github_repository
  terraform_state_bucket      = var.terraform_state_bucket
  create_github_oidc_provider = var.create_github_oidc_provider
  image_registry              = var.image_registry
  dockerhub_namespace         = var.dockerhub_namespace
  certificate_arn             = var.certificate_arn
  alarm_email                 = var.alarm_email
  nat_gateway_mode            = "per_az"
  api_task                    = { desired_count = 2, min_count = 2, max_count = 8 }
  enable_deletion_protection  = true
  force_destroy               = false
}
