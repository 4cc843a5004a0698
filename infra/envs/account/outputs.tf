output "state_bucket" {
  description = "backend.hcl's bucket for every environment."
  value       = module.state.bucket_name
}

output "image_repositories" {
  description = "Image → repository: images.yml pushes here, every environment pulls from here."
  value       = module.ecr.image_repositories
}

output "github_variables" {
  description = "What to set in the repository (see README.md, Delivery pipeline)."
  value = {
    repository = {
      AWS_TERRAFORM_PLAN_ROLE_ARN = module.github_oidc.terraform_plan_role_arn
      TF_STATE_BUCKET             = module.state.bucket_name
      AWS_REGION                  = var.region
    }
    environments = {
      for e in var.environments : e => {
        AWS_DEPLOY_ROLE_ARN          = module.github_oidc.deploy_role_arns[e]
        AWS_TERRAFORM_APPLY_ROLE_ARN = module.github_oidc.terraform_apply_role_arns[e]
        NAME_PREFIX                  = "flightdelay-${e}"
      }
    }
  }
}

output "permissions_boundaries" {
  description = "Environment → the permissions boundary every role of envs/<env> carries (found there by its name)."
  value       = module.github_oidc.permissions_boundary_arns
}
