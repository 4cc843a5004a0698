# The real AWS provider renders every aws_iam_policy_document at plan time (it makes no request for
# them), so these tests read the policies exactly as IAM will get them. Only the data source that
# would call AWS is overridden. flatten([x]) reads "Action", "Resource" and condition values alike
# whether the provider rendered one value (a string) or several (a list).
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "mock-access-key"
  secret_key                  = "mock-secret-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
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
      for s in jsondecode(data.aws_iam_policy_document.task[svc].json).Statement : flatten([s.Condition.StringLike["s3:prefix"]])
      if s.Effect == "Allow" && flatten([s.Action]) == ["s3:ListBucket"] && flatten([s.Resource]) == ["arn:aws:s3:::fd-models"]
    ]), "latest.txt")])
    error_message = "the api and the evaluator may list latest.txt (a missing pointer is then a 404)"
  }
}

run "each_task_role_reads_writes_and_lists_only_its_own_prefixes" {
  command = plan

  # --- api ---
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task["api"].json).Statement : flatten([s.Resource]) if flatten([s.Action]) == ["s3:GetObject"]])) == toset([
      "arn:aws:s3:::fd-models/prod/*", "arn:aws:s3:::fd-models/latest.txt", "arn:aws:s3:::fd-models/decisions/*",
      "arn:aws:s3:::fd-models/monitoring/*", "arn:aws:s3:::fd-data/conditions/latest.json", "arn:aws:s3:::fd-data/conditions/runs/*",
      "arn:aws:s3:::fd-data/new/runs/*",
    ])
    error_message = "the api reads the live model, what /status shows and conditions/latest.json only"
  }
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task["api"].json).Statement : flatten([s.Resource]) if flatten([s.Action]) == ["s3:PutObject"]])) == toset([
      "arn:aws:s3:::fd-data/predictions/*",
    ])
    error_message = "the api writes its answer log (predictions/) only"
  }
  assert {
    condition = { for s in jsondecode(data.aws_iam_policy_document.task["api"].json).Statement : one(flatten([s.Resource])) => toset(flatten([s.Condition.StringLike["s3:prefix"]])) if flatten([s.Action]) == ["s3:ListBucket"] } == {
      "arn:aws:s3:::fd-models" = toset(["latest.txt", "decisions/*", "monitoring/*"])
      "arn:aws:s3:::fd-data"   = toset(["conditions/latest.json", "conditions/runs/*", "new/runs/*"])
    }
    error_message = "the api lists only the prefixes it reads, each bucket under an s3:prefix condition"
  }
  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.task["api"].json).Statement : s if s.Sid == "UseBucketKey"]).Resource == "arn:aws:kms:us-east-1:123456789012:key/buckets"
    error_message = "the api uses the bucket key only"
  }

  # --- fetcher, conditions, evaluator, training: what they write ---
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task["fetcher"].json).Statement : flatten([s.Resource]) if contains(flatten([s.Action]), "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/new/*",
    ])
    error_message = "the fetcher writes new/ only"
  }
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task["evaluator"].json).Statement : flatten([s.Resource]) if contains(flatten([s.Action]), "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-models/prod/*", "arn:aws:s3:::fd-models/latest.txt", "arn:aws:s3:::fd-models/decisions/*",
      "arn:aws:s3:::fd-models/monitoring/*",
    ])
    error_message = "the evaluator writes prod/, latest.txt, decisions/ and monitoring/ only"
  }
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task["training"].json).Statement : flatten([s.Resource]) if contains(flatten([s.Action]), "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/training/*", "arn:aws:s3:::fd-data/conditions/weather/*", "arn:aws:s3:::fd-models/staging/*",
    ])
    error_message = "training writes training/ and conditions/weather/ (its seed) and staging/ only"
  }
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.task["conditions"].json).Statement : flatten([s.Resource]) if contains(flatten([s.Action]), "s3:PutObject")])) == toset([
      "arn:aws:s3:::fd-data/conditions/*",
    ])
    error_message = "the conditions stage writes conditions/ only"
  }
  assert {
    condition     = alltrue([for s in jsondecode(data.aws_iam_policy_document.task["conditions"].json).Statement : alltrue([for r in flatten([s.Resource]) : !startswith(r, "arn:aws:s3:::fd-models")])])
    error_message = "the conditions stage cannot touch the models bucket"
  }
  assert {
    condition = alltrue([for svc, doc in data.aws_iam_policy_document.task : alltrue([
      for s in jsondecode(doc.json).Statement : s.Effect == "Allow" && !contains(flatten([s.Resource]), "*") && alltrue([for a in flatten([s.Action]) : !endswith(a, "*")])
    ])])
    error_message = "no task policy may use a * action or a * resource, nor deny instead of scoping"
  }
  assert {
    condition = alltrue([for svc, doc in data.aws_iam_policy_document.task : toset(flatten([
      for s in jsondecode(doc.json).Statement : flatten([s.Action])
    ])) == toset(length(local.access[svc].write) > 0 ? ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey"] : ["s3:GetObject", "s3:ListBucket", "kms:Decrypt"])])
    error_message = "a task role holds object reads, writes where it writes, prefix-scoped lists and the bucket key: nothing else (no delete)"
  }
  assert {
    condition = alltrue([for svc, doc in data.aws_iam_policy_document.task : alltrue([
      for s in jsondecode(doc.json).Statement : can(s.Condition.StringLike["s3:prefix"]) if contains(flatten([s.Action]), "s3:ListBucket")
    ])])
    error_message = "every ListBucket is limited by an s3:prefix condition"
  }
}

run "the_execution_role_pulls_logs_and_reads_the_one_parameter" {
  command = plan
  assert {
    condition = { for s in jsondecode(data.aws_iam_policy_document.task_exec.json).Statement : s.Sid => {
      actions = toset(flatten([s.Action])), resources = toset(flatten([s.Resource]))
      } } == {
      PullImages           = { actions = toset(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]), resources = toset(["arn:aws:ecr:us-east-1:123456789012:repository/flightdelay/api"]) }
      EcrLogin             = { actions = toset(["ecr:GetAuthorizationToken"]), resources = toset(["*"]) }
      WriteLogs            = { actions = toset(["logs:CreateLogStream", "logs:PutLogEvents"]), resources = toset(["arn:aws:logs:us-east-1:123456789012:log-group:/flightdelay/api:*"]) }
      ReadAviationStackKey = { actions = toset(["ssm:GetParameters"]), resources = toset(["arn:aws:ssm:us-east-1:123456789012:parameter/fd/key"]) }
      DecryptSecrets       = { actions = toset(["kms:Decrypt"]), resources = toset(["arn:aws:kms:us-east-1:123456789012:key/secrets"]) }
    }
    error_message = "the execution role pulls the named repositories, writes the service log groups, reads the one parameter with its key, and nothing else"
  }
  assert {
    condition     = alltrue([for s in jsondecode(data.aws_iam_policy_document.task_exec.json).Statement : s.Effect == "Allow" && alltrue([for a in flatten([s.Action]) : !endswith(a, "*")])])
    error_message = "the execution role has no * action"
  }
}

run "the_trust_policy_is_for_ecs_tasks_of_this_account" {
  command = plan
  assert {
    condition = jsondecode(data.aws_iam_policy_document.ecs_tasks_trust.json).Statement == [{
      Sid       = "EcsTasksAssumeRole", Effect = "Allow", Action = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    }]
    error_message = "tasks are assumed by ECS on behalf of this account only"
  }
}

run "without_a_boundary_nothing_changes" {
  command = plan
  assert {
    condition     = aws_iam_role.task_exec.permissions_boundary == null && alltrue([for r in aws_iam_role.task : r.permissions_boundary == null])
    error_message = "permissions_boundary defaults to none (an administrator's apply)"
  }
}

run "every_role_carries_the_boundary" {
  command = plan
  variables {
    permissions_boundary = "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test"
  }
  assert {
    condition = aws_iam_role.task_exec.permissions_boundary == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test" && alltrue([
      for r in aws_iam_role.task : r.permissions_boundary == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test"
    ]) && length(aws_iam_role.task) == 5
    error_message = "the execution role and the five task roles carry the boundary the apply role requires"
  }
}
