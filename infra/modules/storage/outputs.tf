output "data_bucket_name" {
  description = "Name of the DATA bucket (training/ and new/)."
  value       = aws_s3_bucket.this["data"].id
}

output "data_bucket_arn" {
  description = "ARN of the DATA bucket."
  value       = aws_s3_bucket.this["data"].arn
}

output "models_bucket_name" {
  description = "Name of the MODELS bucket (staging/, prod/, latest.txt, decisions/)."
  value       = aws_s3_bucket.this["models"].id
}

output "models_bucket_arn" {
  description = "ARN of the MODELS bucket."
  value       = aws_s3_bucket.this["models"].arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts both buckets."
  value       = aws_kms_key.this.arn
}

output "log_bucket_name" {
  description = "Name of the access-log bucket (S3 under s3/, ALB under alb/)."
  value       = aws_s3_bucket.logs.id
  # A load balancer given this bucket checks at once that it may write there: wait for the policy.
  depends_on = [aws_s3_bucket_policy.logs]
}
