mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix = "flightdelay-test"
  buckets = {
    data_arn    = "arn:aws:s3:::fd-data"
    models_arn  = "arn:aws:s3:::fd-models"
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/buckets"
  }
  log_group_arns                  = ["arn:aws:logs:us-east-1:123456789012:log-group:/flightdelay/api"]
  aviationstack_key_parameter_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/fd/key"
  secrets_kms_key_arn             = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  ecr_repository_arns             = ["arn:aws:ecr:us-east-1:123456789012:repository/flightdelay/api"]
}

# In AWS, reading a missing key without s3:ListBucket on it answers 403, not 404: before the first
# promotion latest.txt does not exist, so the API and the evaluator must be allowed to list it or
# "nothing is live" reads as a storage failure. moto answers 404 either way, so this is checked here.
run "readers_of_latest_txt_may_list_it_so_a_missing_pointer_is_a_404" {
  command = plan
  assert {
    condition = alltrue([for svc in ["api", "evaluator"] : contains(flatten([
      for s in data.aws_iam_policy_document.task[svc].statement : flatten([for c in s.condition : c.values if c.variable == "s3:prefix"])
      if contains(s.actions, "s3:ListBucket") && contains(s.resources, "arn:aws:s3:::fd-models")
    ]), "latest.txt")])
    error_message = "the api and the evaluator may list latest.txt (a missing pointer is then a 404)"
  }
}

run "each_task_role_names_only_its_own_prefixes" {
  command = plan

  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.task["api"].statement : s.resources if !contains(s.actions, "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-models/prod/*", "arn:aws:s3:::fd-models/latest.txt", "arn:aws:s3:::fd-models/decisions/*",
      "arn:aws:s3:::fd-models/monitoring/*", "arn:aws:s3:::fd-data/conditions/latest.json", "arn:aws:s3:::fd-data/conditions/runs/*",
      "arn:aws:s3:::fd-data/new/runs/*", "arn:aws:kms:us-east-1:123456789012:key/buckets", "arn:aws:s3:::fd-models", "arn:aws:s3:::fd-data",
    ])
    error_message = "the api reads the live model, what /status shows and conditions/latest.json only"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.task["api"].statement : s.resources if contains(s.actions, "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/predictions/*",
    ])
    error_message = "the api writes its answer log (predictions/) only"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.task["fetcher"].statement : s.resources if contains(s.actions, "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/new/*",
    ])
    error_message = "the fetcher writes new/ only"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.task["evaluator"].statement : s.resources if contains(s.actions, "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-models/prod/*", "arn:aws:s3:::fd-models/latest.txt", "arn:aws:s3:::fd-models/decisions/*",
      "arn:aws:s3:::fd-models/monitoring/*",
    ])
    error_message = "the evaluator writes prod/, latest.txt, decisions/ and monitoring/ only"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.task["training"].statement : s.resources if contains(s.actions, "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/training/*", "arn:aws:s3:::fd-data/conditions/weather/*", "arn:aws:s3:::fd-models/staging/*",
    ])
    error_message = "training writes training/ and conditions/weather/ (its seed) and staging/ only"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.task["conditions"].statement : s.resources if contains(s.actions, "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/conditions/*",
    ])
    error_message = "the conditions stage writes conditions/ only"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.task["conditions"].statement : alltrue([for r in s.resources : !startswith(r, "arn:aws:s3:::fd-models")])])
    error_message = "the conditions stage cannot touch the models bucket"
  }
  assert {
    condition     = alltrue([for svc, doc in data.aws_iam_policy_document.task : alltrue([for s in doc.statement : s.resources != null && !contains(s.resources, "*") && alltrue([for a in s.actions : !endswith(a, "*")])])])
    error_message = "no task policy may use a * action or a * resource"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.task_exec.statement : alltrue([for a in s.actions : !endswith(a, "*")])])
    error_message = "the execution role has no * action"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.ecs_tasks_trust.statement[0].condition).variable == "aws:SourceAccount"
    error_message = "the task trust policy must be limited to this account"
  }
}
