output "aviationstack_key_parameter_arn" {
  description = "ARN of the SSM parameter holding the Aviation Stack key (put by the operator, never by Terraform)."
  value       = local.aviationstack_key_parameter_arn
}

output "aviationstack_key_parameter_name" {
  description = "Name of the SSM parameter (for aws ssm put-parameter)."
  value       = local.aviationstack_key_parameter_name
}

output "kms_key_arn" {
  description = "KMS key of the secrets (the task execution role may decrypt with it)."
  value       = aws_kms_key.this.arn
}

output "kms_key_alias" {
  description = "Alias of that key: put the parameter with --key-id <this>."
  value       = aws_kms_alias.this.name
}

output "dockerhub_pull_secret_arn" {
  description = "Secrets Manager ARN of the Docker Hub pull credentials, or null."
  value       = one(aws_secretsmanager_secret.dockerhub[*].arn)
}

output "image_tag" {
  description = "The image tag deployed now (the deploy workflow's last write, or the bootstrap tag)."
  value       = data.aws_ssm_parameter.image_tag.insecure_value
}

output "image_tag_parameter_name" {
  description = "The parameter the deploy workflow writes the tag to."
  value       = aws_ssm_parameter.image_tag.name
}
