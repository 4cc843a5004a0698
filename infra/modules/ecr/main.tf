locals {
  use_ecr = var.image_registry == "ecr"
}

resource "aws_ecr_repository" "this" {
  for_each             = local.use_ecr ? toset(var.images) : toset([])
  name                 = "${var.name_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Untagged layers go after 7 days"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest ${var.keep_images} images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}

# Docker Hub: the pull credentials live in Secrets Manager ({"username": …, "password": …}),
# set outside Terraform; the task execution role may read this one secret.
resource "aws_secretsmanager_secret" "dockerhub" {
  # checkov:skip=CKV2_AWS_57:Docker Hub access tokens are rotated in Docker Hub, not by a Lambda here.
  count       = local.use_ecr ? 0 : 1
  name_prefix = "${var.name_prefix}-dockerhub-pull-"
  description = "Docker Hub pull credentials for the ECS tasks"
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}
