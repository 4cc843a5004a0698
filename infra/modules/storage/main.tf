# The DATA and MODELS buckets, their KMS key, and a bucket for S3 and ALB access logs.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  buckets = {
    data   = "${var.name_prefix}-data"
    models = "${var.name_prefix}-models"
  }
  account_id = data.aws_caller_identity.current.account_id
}

# --- KMS key for both buckets ----------------------------------------------------------------
data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; this is AWS's default key policy (account administers its key).
  # checkov:skip=CKV_AWS_356:Same: in a key policy "*" means this key only.
  # checkov:skip=CKV_AWS_109:Same: the account root administers the key, as AWS's default key policy does.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" means this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: DATA and MODELS buckets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-buckets"
  target_key_id = aws_kms_key.this.key_id
}

# --- DATA and MODELS --------------------------------------------------------------------------
resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the operator; versioning keeps history.
  # checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the scheduled tasks read on their schedule.
  # checkov:skip=CKV2_AWS_61:Lifecycle rules are set per bucket below (aws_s3_bucket_lifecycle_configuration.data and .models); checkov cannot link them through for_each.
  # checkov:skip=CKV_AWS_18:Logging is set by aws_s3_bucket_logging.this; checkov loses the for_each link for the second bucket when scanning an environment (tests/storage.tftest.hcl asserts it).
  # checkov:skip=CKV2_AWS_6:Public access block is aws_s3_bucket_public_access_block.this (same for_each limitation; asserted in terraform test).
  # checkov:skip=CKV_AWS_21:Versioning is aws_s3_bucket_versioning.this (same for_each limitation; asserted in terraform test).
  # checkov:skip=CKV_AWS_145:SSE-KMS is aws_s3_bucket_server_side_encryption_configuration.this (same for_each limitation; asserted in terraform test).
  for_each      = local.buckets
  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each      = aws_s3_bucket.this
  bucket        = each.value.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${each.key}/"
  depends_on    = [aws_s3_bucket_policy.logs] # S3 checks the log bucket grants delivery when logging is enabled
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.this["data"].id

  rule {
    id     = "raw-pages-to-cold-storage"
    status = "Enabled"
    filter {
      prefix = "new/raw/"
    }
    transition {
      days          = var.lifecycle_days.raw_to_infrequent_access
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.lifecycle_days.raw_to_glacier
      storage_class = "GLACIER"
    }
  }

  rule {
    id     = "expire-query-results"
    status = "Enabled"
    filter {
      prefix = "athena-results/"
    }
    expiration {
      days = var.lifecycle_days.query_results_expiration
    }
  }

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_expiration
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "models" {
  bucket = aws_s3_bucket.this["models"].id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_expiration
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# --- access logs (S3 server access logs and ALB logs) -----------------------------------------
resource "aws_s3_bucket" "logs" {
  # checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it into itself would loop.
  # checkov:skip=CKV_AWS_144:Access logs are not replicated across regions.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of the log bucket.
  # checkov:skip=CKV_AWS_145:S3 server access logs and ALB logs can only be delivered to SSE-S3 buckets (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
  bucket        = "${var.name_prefix}-logs"
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Purpose = "access-logs" })
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.lifecycle_days.access_logs_expiration
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# Log delivery by the S3 logging service and by Elastic Load Balancing, from this account only
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
  statement {
    sid       = "AlbAccessLogs" # Regions opened since August 2022 deliver as this service principal
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }
  dynamic "statement" {
    for_each = contains(keys(local.elb_accounts), data.aws_region.current.name) ? [1] : []
    content {
      sid       = "AlbAccessLogsLegacyRegion" # older Regions deliver as their Elastic Load Balancing account
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${local.account_id}/*"]
      principals {
        type        = "AWS"
        identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.elb_accounts[data.aws_region.current.name]}:root"]
      }
    }
  }
}

# Elastic Load Balancing's account per Region for Regions available before August 2022
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html#attach-bucket-policy).
locals {
  elb_accounts = {
    us-east-1      = "127311923021", us-east-2 = "033677994240", us-west-1 = "027434742980", us-west-2 = "797873946194",
    af-south-1     = "098369216593", ap-east-1 = "754344448648",
    ap-south-1     = "718504428378", ap-northeast-3 = "383597477331", ap-northeast-2 = "600734575887",
    ap-southeast-1 = "114774131450", ap-southeast-2 = "783225319266", ap-northeast-1 = "582318560864",
    ca-central-1   = "985666609251", eu-central-1 = "054676820928", eu-west-1 = "156460612806",
    eu-west-2      = "652711504416", eu-south-1 = "635631232127", eu-west-3 = "009996457667",
    eu-north-1     = "897822967062", me-south-1 = "076674570225", sa-east-1 = "507241528517",
    us-gov-west-1  = "048591011584", us-gov-east-1 = "190560391635",
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs.json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}
