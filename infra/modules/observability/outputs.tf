output "log_group_names" {
  description = "Service → log group name."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "log_group_arns" {
  description = "Service → log group ARN."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.arn }
}

output "logs_kms_key_arn" {
  description = "KMS key of the log groups (usable for other log groups, e.g. VPC flow logs)."
  value       = aws_kms_key.this.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms publish to."
  value       = aws_sns_topic.alarms.arn
}
