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
  description = "Image → repository (no tag)."
  value       = local.repository
}

output "image_tag_parameter" {
  description = "SSM parameter holding the deployed image tag (the deploy workflow writes it)."
  value       = module.secrets.image_tag_parameter_name
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

output "alarm_topic_arn" {
  description = "SNS topic every alarm and failed task publishes to (subscribe e-mail, chat or a pager to it)."
  value       = module.observability.alarm_topic_arn
}

output "aviationstack_key_parameter" {
  description = "Put the Aviation Stack key here (aws ssm put-parameter --type SecureString --key-id alias/<stack>-secrets); Terraform never manages it."
  value       = module.secrets.aviationstack_key_parameter_name
}

output "analytics" {
  description = "Athena workgroup, Glue database and the policy for analysts."
  value = {
    workgroup          = module.analytics.workgroup_name
    database           = module.analytics.database_name
    analyst_policy_arn = module.analytics.analyst_policy_arn
  }
}

output "run_task_commands" {
  description = "Scheduled task → the AWS CLI command that runs it now (e.g. the first training, instead of waiting for Sunday)."
  value = {
    for k, m in module.schedule : k => join(" ", [
      "aws ecs run-task --cluster ${module.ecs_cluster.cluster_name} --task-definition ${m.task_family}",
      "--launch-type FARGATE --network-configuration",
      "'awsvpcConfiguration={subnets=[${join(",", module.network.private_subnet_ids)}],securityGroups=[${m.security_group_id}],assignPublicIp=DISABLED}'",
    ])
  }
}
