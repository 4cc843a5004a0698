# One repository per image, shared by every environment of the account: an image is built once and
# the same digest is deployed to dev, then to prod. Called by envs/account.
resource "aws_ecr_repository" "this" {
  for_each             = toset(var.images)
  name                 = "${var.name_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE" # tags are commit SHAs: one tag, one build, forever
  force_delete         = var.force_delete
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn # null: the AWS managed aws/ecr key
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
