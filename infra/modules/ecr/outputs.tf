output "image_repositories" {
  description = "Image name → repository URL (ECR) or Docker Hub repository, without a tag."
  value = {
    for image in var.images : image => (
      var.image_registry == "ecr" ? aws_ecr_repository.this[image].repository_url : "docker.io/${var.dockerhub_namespace}/${var.name_prefix}-${image}"
    )
  }
}

output "repository_arns" {
  description = "ARNs of the ECR repositories (empty with Docker Hub)."
  value       = [for r in aws_ecr_repository.this : r.arn]
}

output "pull_secret_arn" {
  description = "Secrets Manager ARN of the Docker Hub pull credentials, or null with ECR."
  value       = one(aws_secretsmanager_secret.dockerhub[*].arn)
}
