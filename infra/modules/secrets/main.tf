# The Aviation Stack access key as an SSM SecureString. Terraform creates the parameter with a
# placeholder and never reads the real value: put it with
#   aws ssm put-parameter --name <parameter_name> --type SecureString --overwrite --value '…'
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

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

resource "aws_ssm_parameter" "aviationstack_key" {
  name        = "/${var.name_prefix}/aviationstack/access-key"
  description = "Aviation Stack access key for the fetcher (value set outside Terraform)"
  type        = "SecureString"
  key_id      = aws_kms_key.this.arn
  value       = "set-me-outside-terraform"
  tags        = var.tags

  lifecycle {
    ignore_changes = [value] # the real key is put by hand or by a secrets pipeline, never by Terraform
  }
}
