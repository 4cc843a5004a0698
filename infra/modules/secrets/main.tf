# The Aviation Stack access key as an SSM SecureString that Terraform never manages: the operator
# puts it (README.md), Terraform only names it, and the task definitions reference it by ARN. A
# parameter in Terraform, even with ignore_changes on its value, is read back into the state at
# every refresh; this one never is, so neither the state nor a plan can leak the key.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  aviationstack_key_parameter_name = "/${var.name_prefix}/aviationstack/access-key"
  aviationstack_key_parameter_arn  = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${local.aviationstack_key_parameter_name}"
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; this is AWS's default key policy.
  # checkov:skip=CKV_AWS_356:Same: in a key policy "*" means this key only.
  # checkov:skip=CKV_AWS_109:Same: the account root administers the key, as AWS's default key policy does.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-secrets"
  target_key_id = aws_kms_key.this.key_id
}

# Earlier versions created the parameter with a placeholder; forget it without deleting it, so the
# key an operator put stays where the tasks read it and leaves the state at the next apply.
removed {
  from = aws_ssm_parameter.aviationstack_key
  lifecycle {
    destroy = false
  }
}

# Docker Hub: the pull credentials live in Secrets Manager ({"username": …, "password": …}), set
# outside Terraform; the task execution role may read this one secret.
resource "aws_secretsmanager_secret" "dockerhub" {
  # checkov:skip=CKV2_AWS_57:Docker Hub access tokens are rotated in Docker Hub, not by a Lambda here.
  count       = var.create_dockerhub_pull_secret ? 1 : 0
  name_prefix = "${var.name_prefix}-dockerhub-pull-"
  description = "Docker Hub pull credentials for the ECS tasks"
  kms_key_id  = aws_kms_key.this.arn
  tags        = var.tags
}

# The image tag the environment runs. The deploy workflow owns it: it writes the tag here when it
# rolls an image out, and every task definition Terraform registers reads it, so an apply that
# changes a task's shape keeps the deployed image (never the bootstrap one).
resource "aws_ssm_parameter" "image_tag" {
  # checkov:skip=CKV2_AWS_34:An image tag (a commit SHA) is not a secret.
  name        = "/${var.name_prefix}/image-tag"
  description = "Image tag deployed to ${var.name_prefix} (written by the deploy workflow)"
  type        = "String"
  value       = var.bootstrap_image_tag
  tags        = var.tags

  lifecycle {
    ignore_changes = [value] # the deploy workflow owns the value
  }
}

data "aws_ssm_parameter" "image_tag" {
  name       = aws_ssm_parameter.image_tag.name
  depends_on = [aws_ssm_parameter.image_tag] # read after it exists; then at every plan
}
