# The prod environment: the whole stack with prod's settings.
provider "aws" {
  region = var.region
  default_tags { # the apply role may change no resource whose Environment tag names another environment
    tags = { Project = "flightdelay", Environment = "prod", ManagedBy = "terraform" }
  }
}

# Every role of the stack carries the permissions boundary envs/account made for this environment
# (modules/github-oidc): found by its name, so this root plans without the account root's state.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  permissions_boundary = coalesce(var.permissions_boundary, "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/flightdelay-permissions-boundary-prod")
}

module "flightdelay" {
  source = "../../modules/stack"

  environment                = "prod"
  image_registry             = var.image_registry
  dockerhub_namespace        = var.dockerhub_namespace
  certificate_arn            = var.certificate_arn == "" ? null : var.certificate_arn
  enable_http_warning        = true # prod over plain HTTP warns at every plan
  alarm_email                = var.alarm_email == "" ? null : var.alarm_email
  nat_gateway_mode           = "per_az"
  api_task                   = { desired_count = 2, min_count = 2, max_count = 8 }
  enable_deletion_protection = var.enable_deletion_protection
  permissions_boundary       = local.permissions_boundary
  force_destroy              = var.force_destroy
}
