output "aviationstack_key_parameter_arn" {
  description = "ARN of the SSM parameter holding the Aviation Stack key."
  value       = aws_ssm_parameter.aviationstack_key.arn
}

output "aviationstack_key_parameter_name" {
  description = "Name of the SSM parameter (for aws ssm put-parameter)."
  value       = aws_ssm_parameter.aviationstack_key.name
}

output "kms_key_arn" {
  description = "KMS key of the secrets (the task execution role may decrypt with it)."
  value       = aws_kms_key.this.arn
}
