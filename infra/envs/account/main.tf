# What an AWS account needs once, before any environment: the Terraform state bucket, the image
# repositories every environment deploys from, the GitHub OIDC provider with the workflows' roles,
# and each environment's permissions boundary (every role of envs/<env> carries it, and the apply
# role can create no role without it: apply this root before any environment). An administrator
# applies it from a laptop; its own state stays local to that folder (keep terraform.tfstate safe,
# or move it into the bucket it made with `terraform init -migrate-state` and a backend block).
provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "flightdelay", Environment = "account", ManagedBy = "terraform" }
  }
}

data "aws_caller_identity" "current" {}

module "state" {
  source      = "../../modules/terraform-state"
  bucket_name = coalesce(var.state_bucket, "flightdelay-tfstate-${data.aws_caller_identity.current.account_id}")
}

module "github_oidc" {
  source                     = "../../modules/github-oidc"
  github_repository          = var.github_repository
  environments               = var.environments
  create_oidc_provider       = var.create_oidc_provider
  terraform_state_bucket_arn = module.state.bucket_arn
}

module "ecr" {
  source       = "../../modules/ecr"
  force_delete = var.ecr_force_delete
  # The deploy tags what it rolls out <env>-<sha>: those images are never expired.
  protected_tag_prefixes = [for e in var.environments : "${e}-"]
}
