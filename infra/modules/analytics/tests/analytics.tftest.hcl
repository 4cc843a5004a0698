mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix     = "flightdelay-test"
  data_bucket_arn = "arn:aws:s3:::fd-data"
  kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/data"
}

run "tables_project_the_date_partitions_as_they_lie" {
  command = plan
  assert {
    condition     = aws_glue_catalog_table.this["new_clean"].parameters["storage.location.template"] == "s3://fd-data/new/clean/date=$${date}/" && aws_glue_catalog_table.this["training"].parameters["projection.enabled"] == "true"
    error_message = "partition projection over date=YYYY-MM-DD/ folders, no crawler"
  }
  assert {
    condition     = [for c in one(aws_glue_catalog_table.this["training"].storage_descriptor).columns : c.name][14] == "arr_delay"
    error_message = "the columns follow the normalized schema"
  }
  assert {
    condition     = aws_glue_catalog_database.this.name == "flightdelay_test"
    error_message = "Glue names take underscores"
  }
}

run "results_are_encrypted_and_the_workgroup_enforces_it" {
  command = plan
  assert {
    condition     = one(aws_athena_workgroup.this.configuration).enforce_workgroup_configuration && one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).encryption_option == "SSE_KMS"
    error_message = "query results are SSE-KMS, and a query cannot pick another location"
  }
}

run "the_analyst_reads_flights_and_writes_only_results" {
  command = plan
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.analyst.statement : s.resources if s.sid == "WriteAndReadResults"])) == toset(["arn:aws:s3:::fd-data/athena-results/*"])
    error_message = "an analyst writes only query results"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.analyst.statement : !contains(s.resources, "*")])
    error_message = "no * resource in the analyst policy"
  }
}

run "every_dataset_of_the_data_bucket_has_a_table_and_every_query_file_is_saved" {
  command = plan
  assert {
    condition     = toset(keys(aws_glue_catalog_table.this)) == toset(["training", "new_clean", "weather", "predictions"])
    error_message = "a table for the flights, the fetched days, the weather and the answers"
  }
  assert {
    condition     = aws_glue_catalog_table.this["predictions"].parameters["storage.location.template"] == "s3://fd-data/predictions/date=$${date}/" && aws_glue_catalog_table.this["weather"].parameters["storage.location.template"] == "s3://fd-data/conditions/weather/date=$${date}/"
    error_message = "weather and answers are projected over their date= folders"
  }
  assert {
    condition     = toset(keys(aws_athena_named_query.this)) == toset(["answers-with-outcomes", "input-drift", "late-share-by-airport-and-hour", "late-share-by-origin-and-day", "live-quality-by-day-and-horizon"])
    error_message = "one saved query per file of queries/"
  }
  assert {
    condition     = aws_athena_named_query.this["input-drift"].query == file("queries/input_drift.sql")
    error_message = "the saved query is the file, as tested on DuckDB"
  }
}
