output "api_url" {
  description = "Base URL of the API."
  value       = module.flightdelay.api_url
}

output "data_bucket" {
  description = "FLIGHTDELAY_DATA_URL is s3://<this>."
  value       = module.flightdelay.data_bucket
}

output "models_bucket" {
  description = "FLIGHTDELAY_MODELS_URL is s3://<this>."
  value       = module.flightdelay.models_bucket
}

output "image_tag_parameter" {
  description = "SSM parameter holding the deployed image tag (deploy.yml writes it)."
  value       = module.flightdelay.image_tag_parameter
}

output "image_repositories" {
  description = "Image → repository."
  value       = module.flightdelay.image_repositories
}

output "cluster_name" {
  description = "ECS cluster (repository variable ECS_CLUSTER)."
  value       = module.flightdelay.cluster_name
}

output "api_service_name" {
  description = "ECS service of the API (repository variable API_SERVICE)."
  value       = module.flightdelay.api_service_name
}

output "task_families" {
  description = "Task definition families (the deploy workflow registers new revisions)."
  value       = module.flightdelay.task_families
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm and failed task publishes to (subscribe e-mail, chat or a pager to it)."
  value       = module.flightdelay.alarm_topic_arn
}

output "aviationstack_key_parameter" {
  description = "Put the Aviation Stack key here (aws ssm put-parameter --type SecureString --key-id alias/<stack>-secrets); Terraform never manages it."
  value       = module.flightdelay.aviationstack_key_parameter
}

output "analytics" {
  description = "Athena workgroup, Glue database and the policy for analysts."
  value       = module.flightdelay.analytics
}

output "run_task_commands" {
  description = "Scheduled task → the AWS CLI command that runs it now (e.g. the first training)."
  value       = module.flightdelay.run_task_commands
}
