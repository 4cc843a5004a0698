output "task_exec_role_arn" {
  description = "ARN of the task execution role (image pull, logs, the Aviation Stack key)."
  value       = aws_iam_role.task_exec.arn
}

output "task_role_arns" {
  description = "Service name (api, fetcher, evaluator, training) → ARN of its task role."
  value       = { for k, r in aws_iam_role.task : k => r.arn }
}
