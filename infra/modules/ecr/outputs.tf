output "image_repositories" {
  description = "Image name → repository URL, without a tag."
  value       = { for image, r in aws_ecr_repository.this : image => r.repository_url }
}

output "repository_arns" {
  description = "ARNs of the repositories."
  value       = [for r in aws_ecr_repository.this : r.arn]
}

output "lifecycle_policy" {
  description = "The lifecycle policy of every repository (JSON): what is kept, what expires."
  value       = one(distinct(values(aws_ecr_lifecycle_policy.this)[*].policy)) # the same for every repository
}
