output "schedule_arn" {
  description = "ARN of the schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "task_family" {
  description = "Task definition family (the deploy workflow registers new revisions of it)."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_arn" {
  description = "ARN of the revision Terraform created."
  value       = aws_ecs_task_definition.this.arn
}

output "dead_letter_queue_name" {
  description = "Dead-letter queue of runs the scheduler could not start."
  value       = aws_sqs_queue.dead_letter.name
}

output "security_group_id" {
  description = "Security group of the task."
  value       = aws_security_group.this.id
}

output "image" {
  description = "Image of the task definition Terraform registered (repository:tag)."
  value       = var.container.image
}
