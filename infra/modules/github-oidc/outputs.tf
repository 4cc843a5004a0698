output "deploy_role_arns" {
  description = "Environment → role of images.yml and deploy.yml (environment variable AWS_DEPLOY_ROLE_ARN)."
  value       = { for e, r in aws_iam_role.deploy : e => r.arn }
}

output "terraform_plan_role_arn" {
  description = "Role of terraform.yml on pull requests (repository variable AWS_TERRAFORM_PLAN_ROLE_ARN)."
  value       = aws_iam_role.terraform_plan.arn
}

output "terraform_apply_role_arns" {
  description = "Environment → role of terraform.yml's apply job (environment variable AWS_TERRAFORM_APPLY_ROLE_ARN)."
  value       = { for e, r in aws_iam_role.terraform_apply : e => r.arn }
}

output "permissions_boundary_arns" {
  description = "Environment → the permissions boundary every role of that stack must carry (envs/<env> finds it by its name, <name_prefix>-permissions-boundary-<env>)."
  value       = { for e, p in aws_iam_policy.boundary : e => p.arn }
}
