output "database_name" {
  description = "Glue database of the flight tables (training, new_clean)."
  value       = aws_glue_catalog_database.this.name
}

output "workgroup_name" {
  description = "Athena workgroup to query in."
  value       = aws_athena_workgroup.this.name
}

output "analyst_policy_arn" {
  description = "Managed policy to attach to whoever queries."
  value       = aws_iam_policy.analyst.arn
}
