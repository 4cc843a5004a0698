output "url" {
  description = "Base URL of the API (the ALB's DNS name)."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "service_name" {
  description = "Name of the ECS service (the deploy workflow updates it)."
  value       = aws_ecs_service.this.name
}

output "task_family" {
  description = "Task definition family of the API."
  value       = aws_ecs_task_definition.this.family
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB, for CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group, for CloudWatch metrics."
  value       = aws_lb_target_group.this.arn_suffix
}

output "image" {
  description = "Image of the task definition Terraform registered (repository:tag)."
  value       = var.image
}
