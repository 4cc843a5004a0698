output "image_repositories" {
  description = "Image name → repository URL, without a tag."
  value       = { for image, r in aws_ecr_repository.this : image => r.repository_url }
}

output "repository_arns" {
  description = "ARNs of the repositories."
  value       = [for r in aws_ecr_repository.this : r.arn]
}
