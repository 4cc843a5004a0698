output "api_url" {
  description = "Base URL of the API."
  value       = module.api.url
}

output "data_bucket" {
  description = "FLIGHTDELAY_DATA_URL is s3://<this>."
  value       = module.storage.data_bucket_name
}

output "models_bucket" {
  description = "FLIGHTDELAY_MODELS_URL is s3://<this>."
  value       = module.storage.models_bucket_name
}

output "image_repositories" {
  description = "Image → repository."
  value       = module.ecr.image_repositories
}

output "cluster_name" {
  description = "ECS cluster."
  value       = module.ecs_cluster.cluster_name
}

output "api_service_name" {
  description = "ECS service of the API (deploy workflow)."
  value       = module.api.service_name
}

output "task_families" {
  description = "Task definition families (deploy workflow)."
  value       = merge({ api = module.api.task_family }, { for k, m in module.schedule : k => m.task_family })
}

output "aviationstack_key_parameter" {
  description = "Put the Aviation Stack key here (aws ssm put-parameter --overwrite)."
  value       = module.secrets.aviationstack_key_parameter_name
}

output "github_roles" {
  description = "Role ARNs for the repository variables."
  value = {
    deploy          = module.github_oidc.deploy_role_arn
    terraform_plan  = module.github_oidc.terraform_plan_role_arn
    terraform_apply = module.github_oidc.terraform_apply_role_arn
  }
}
