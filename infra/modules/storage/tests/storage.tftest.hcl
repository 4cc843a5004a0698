mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix = "flightdelay-test"
}

run "buckets_are_encrypted_with_the_module_key_private_and_tls_only" {
  command = plan

  assert {
    condition     = alltrue([for k, c in aws_s3_bucket_server_side_encryption_configuration.this : one(c.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"])
    error_message = "DATA and MODELS must use SSE-KMS"
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "the bucket key must rotate"
  }
  assert {
    condition     = alltrue([for k, b in aws_s3_bucket_public_access_block.this : b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets])
    error_message = "public access must be blocked on DATA and MODELS"
  }
  assert {
    condition     = alltrue([for k, d in data.aws_iam_policy_document.tls_only : d.statement[0].effect == "Deny" && contains(one(d.statement[0].condition).values, "false") && one(d.statement[0].condition).variable == "aws:SecureTransport"])
    error_message = "every bucket policy must deny requests without TLS"
  }
  assert {
    condition     = alltrue([for k, v in aws_s3_bucket_versioning.this : v.versioning_configuration[0].status == "Enabled"])
    error_message = "versioning must be on"
  }
  assert {
    condition     = toset(keys(aws_s3_bucket.this)) == toset(["data", "models"])
    error_message = "the module makes exactly the DATA and MODELS buckets"
  }
}

run "both_buckets_log_to_the_log_bucket" {
  command = plan
  assert {
    condition     = toset(keys(aws_s3_bucket_logging.this)) == toset(["data", "models"])
    error_message = "DATA and MODELS must both have access logging"
  }
}

run "raw_pages_move_to_cold_storage" {
  command = plan

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.data.rule[0].filter[0].prefix == "new/raw/"
    error_message = "the cold-storage rule must target new/raw/"
  }
}

run "a_bad_prefix_is_refused" {
  command = plan
  variables {
    name_prefix = "Not_Valid"
  }
  expect_failures = [var.name_prefix]
}

run "alb_logs_are_writable_in_old_and_new_regions" {
  command = plan
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.logs.statement : flatten([for p in s.principals : p.identifiers]) if startswith(s.sid, "AlbAccessLogs")])) == toset([
      "logdelivery.elasticloadbalancing.amazonaws.com", "arn:aws:iam::127311923021:root",
    ])
    error_message = "us-east-1 (older than August 2022) needs its ELB account besides the service principal"
  }
}

run "a_region_opened_later_uses_the_service_principal_only" {
  command = plan
  override_data {
    target = data.aws_region.current
    values = { name = "ap-southeast-5" }
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.logs.statement : s if startswith(s.sid, "AlbAccessLogs")]) == 1
    error_message = "newer regions deliver as logdelivery.elasticloadbalancing.amazonaws.com only"
  }
}
