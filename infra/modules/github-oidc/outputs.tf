output "deploy_role_arn" {
  description = "Role of images.yml and deploy.yml (repository variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deploy.arn
}

output "terraform_plan_role_arn" {
  description = "Role of terraform.yml on pull requests (AWS_TERRAFORM_PLAN_ROLE_ARN)."
  value       = aws_iam_role.terraform_plan.arn
}

output "terraform_apply_role_arn" {
  description = "Role of terraform.yml on main (AWS_TERRAFORM_APPLY_ROLE_ARN)."
  value       = aws_iam_role.terraform_apply.arn
}
