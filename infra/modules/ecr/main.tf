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

# An image an environment runs is never expired. The deploy tags every image it rolls out to an
# environment <env>-<sha> (an extra tag on the same digest: tags are immutable, so a new tag each
# time); a rule whose tagPrefixList matches those tags protects them, because "an image that matches
# the tagging requirements of a rule cannot be expired by a rule with a lower priority"
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html#lifecycle_policy_evaluation).
# Its count is far above any number of deploys, so it expires nothing in practice. Below it, only
# untagged images and the oldest of the images no environment has run are expired.
resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Never expire what an environment runs or ran (${join(", ", [for p in var.protected_tag_prefixes : "${p}*"])})"
        selection    = { tagStatus = "tagged", tagPrefixList = var.protected_tag_prefixes, countType = "imageCountMoreThan", countNumber = 10000 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Untagged layers go after 7 days"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 3
        description  = "Keep the newest ${var.keep_images} images no environment has run"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}
