# The real AWS provider renders every aws_iam_policy_document at plan time (it makes no request for
# them), so these tests read each pipeline role's policy exactly as IAM will get it: actions,
# resources and conditions. Only the data sources that would call AWS are overridden.
# flatten([x]) reads "Action", "Resource" and condition values alike whether the provider rendered
# one value (a string) or several (a list).
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

override_data {
  target = data.aws_partition.current
  values = { partition = "aws" }
}

variables {
  github_repository          = "example-org/flightdelay"
  environments               = ["dev", "prod"]
  terraform_state_bucket_arn = "arn:aws:s3:::fd-tfstate"
  # The account's existing provider, named by ARN: every trust policy is then known at plan time.
  create_oidc_provider = false
}

run "each_environment_role_is_trusted_by_that_environment_only" {
  command = plan
  assert {
    condition = jsondecode(data.aws_iam_policy_document.trust["prod"].json).Statement == [{
      Sid       = "GitHubActionsOidc", Effect = "Allow", Action = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }
      Condition = { StringEquals = {
        "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
        "token.actions.githubusercontent.com:sub" = "repo:example-org/flightdelay:environment:prod"
      } }
    }]
    error_message = "prod's roles trust jobs of the prod environment of this repository only (not any job on main)"
  }
  assert {
    condition     = jsondecode(data.aws_iam_policy_document.trust["pull_requests"].json).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/flightdelay:pull_request"
    error_message = "the plan role trusts pull requests of this repository"
  }
  assert {
    condition = alltrue([
      jsondecode(aws_iam_role.terraform_apply["dev"].assume_role_policy) == jsondecode(data.aws_iam_policy_document.trust["dev"].json),
      jsondecode(aws_iam_role.deploy["prod"].assume_role_policy) == jsondecode(data.aws_iam_policy_document.trust["prod"].json),
      jsondecode(aws_iam_role.terraform_plan.assume_role_policy) == jsondecode(data.aws_iam_policy_document.trust["pull_requests"].json),
    ])
    error_message = "each role uses its own environment's trust policy"
  }
}

run "no_workflow_role_can_change_itself_or_another_environment" {
  command = plan
  assert {
    condition = alltrue([for e in ["dev", "prod"] : alltrue([for n in [
      aws_iam_role.terraform_apply[e].name, aws_iam_role.deploy[e].name, aws_iam_role.terraform_plan.name, aws_iam_policy.boundary[e].name,
    ] : !startswith(n, "flightdelay-dev-") && !startswith(n, "flightdelay-prod-")])])
    error_message = "the workflow roles and the boundaries are outside every flightdelay-<env>-* name an apply role may change"
  }
  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.apply["dev"].json).Statement : s.Resource if s.Sid == "StateOfThisEnvironment"]) == "arn:aws:s3:::fd-tfstate/flightdelay/dev/*"
    error_message = "the apply role writes its own environment's state only"
  }
}

run "no_pipeline_role_holds_a_wildcard_action_on_everything" {
  command = plan
  assert {
    condition = alltrue([for k, j in merge(
      { for e, d in data.aws_iam_policy_document.apply : "apply-${e}" => d.json },
      { for e, d in data.aws_iam_policy_document.deploy : "deploy-${e}" => d.json },
      { for e, d in data.aws_iam_policy_document.boundary : "boundary-${e}" => d.json },
      { plan = data.aws_iam_policy_document.plan_state.json, never_read_secrets = data.aws_iam_policy_document.never_read_secrets.json },
      ) : alltrue([for s in jsondecode(j).Statement :
        !can(s.NotAction) && length(setintersection(toset(flatten([s.Action])), toset(["*", "iam:*"]))) == 0
    ])])
    error_message = "no statement of any pipeline role (or boundary) has Action \"*\", \"iam:*\" or a NotAction"
  }
  assert {
    condition = alltrue([for k, j in merge(
      { for e, d in data.aws_iam_policy_document.apply : "apply-${e}" => d.json },
      { for e, d in data.aws_iam_policy_document.deploy : "deploy-${e}" => d.json },
      { for e, d in data.aws_iam_policy_document.boundary : "boundary-${e}" => d.json },
      { plan = data.aws_iam_policy_document.plan_state.json, never_read_secrets = data.aws_iam_policy_document.never_read_secrets.json },
      ) : alltrue([for s in jsondecode(j).Statement :
        alltrue([for a in flatten([s.Action]) : !endswith(a, ":*")]) if s.Effect == "Allow" && contains(flatten([try(s.Resource, [])]), "*")
    ])])
    error_message = "no Allow grants a service:* action on Resource \"*\""
  }
  # The Allow statements left on "*", each with the reason written beside it in main.tf.
  assert {
    condition = alltrue([for e in ["dev", "prod"] : {
      for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : s.Sid => toset(flatten([s.Action])) if s.Effect == "Allow" && contains(flatten([try(s.Resource, [])]), "*")
      } == {
      CreateKeys                = toset(["kms:CreateKey"])                # no resource before the key exists
      DeregisterTaskDefinitions = toset(["ecs:DeregisterTaskDefinition"]) # the action takes no resource
      Network                   = toset(local.network_actions)            # AWS-assigned IDs; other environments denied by tag
      ApiAutoscaling            = toset(local.autoscaling_actions)        # AWS-assigned IDs; other environments denied by tag
    }])
    error_message = "the apply roles' only Allow statements on \"*\" are key creation, task definition deregistration, the network and the API's scaling target"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : {
      for s in jsondecode(data.aws_iam_policy_document.deploy[e].json).Statement : s.Sid => toset(flatten([s.Action])) if contains(flatten([s.Resource]), "*")
      } == {
      EcrLogin                = toset(["ecr:GetAuthorizationToken"])
      DescribeTaskDefinitions = toset(["ecs:DescribeTaskDefinition"])
      WatchTheRollout         = toset(["ecs:ListTasks"])
      CheckTheTargets         = toset(["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"])
    }])
    error_message = "the deploy roles' only statements on \"*\" are actions AWS scopes to no resource (reads, and the ECR login)"
  }
  assert {
    condition     = alltrue([for e in ["dev", "prod"] : one([for s in jsondecode(data.aws_iam_policy_document.deploy[e].json).Statement : try(s.Condition, null) if s.Sid == "WatchTheRollout"]) == { StringLike = { "ecs:cluster" = "arn:aws:ecs:*:123456789012:cluster/flightdelay-${e}" } }])
    error_message = "ecs:ListTasks is limited to the environment's own cluster"
  }
  assert {
    condition     = [for s in jsondecode(data.aws_iam_policy_document.boundary["dev"].json).Statement : s.Sid if contains(flatten([s.Resource]), "*")] == ["EcrLogin"] && length([for s in jsondecode(data.aws_iam_policy_document.plan_state.json).Statement : s if s.Effect == "Allow" && contains(flatten([s.Resource]), "*")]) == 0
    error_message = "the boundary's only \"*\" is the ECR login; the plan role allows nothing on \"*\""
  }
}

run "apply_roles_create_and_change_roles_only_under_their_boundary" {
  command = plan
  assert {
    condition = alltrue([for e in ["dev", "prod"] : one([for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : {
      effect = s.Effect, actions = toset(flatten([s.Action])), resources = flatten([s.Resource]), condition = try(s.Condition, null)
      } if s.Sid == "RolesOnlyWithTheBoundary"]) == {
      effect    = "Allow"
      actions   = toset(["iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"])
      resources = ["arn:aws:iam::123456789012:role/flightdelay-${e}-*"]
      condition = { StringEquals = { "iam:PermissionsBoundary" = "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-${e}" } }
    }])
    error_message = "CreateRole, PutRolePolicy, AttachRolePolicy and PutRolePermissionsBoundary (and the policy removals) need iam:PermissionsBoundary = this environment's boundary"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : [for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : s.Sid if s.Effect == "Allow" && length(setintersection(toset(flatten([s.Action])), toset([
      "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
    ]))) > 0] == ["RolesOnlyWithTheBoundary"]])
    error_message = "no other statement grants a role-creating or policy-changing action"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : contains([for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : s.Resource
      if s.Effect == "Deny" && contains(flatten([s.Action]), "iam:DeleteRolePermissionsBoundary")], "*") && length([
      for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : s if s.Effect == "Allow" && contains(flatten([s.Action]), "iam:DeleteRolePermissionsBoundary")
    ]) == 0])
    error_message = "no apply role may ever take a boundary off a role"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : anytrue([for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement :
      s.Effect == "Deny" && try(s.Resource, "") == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-*" &&
      length(setsubtract(toset(["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]), toset(flatten([s.Action])))) == 0
    ])])
    error_message = "no apply role may change or delete a boundary policy"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : alltrue([for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : alltrue([
      for r in flatten([s.Resource]) : startswith(r, "arn:aws:iam::123456789012:policy/flightdelay-${e}-") if strcontains(r, ":policy/")
    ]) if s.Effect == "Allow"])])
    error_message = "the policies an apply role may write are its environment's, never a boundary"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : alltrue([for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement : alltrue([
      for r in flatten([s.Resource]) : startswith(r, "arn:aws:iam::123456789012:role/flightdelay-${e}-") || (r == "arn:aws:iam::123456789012:role/aws-service-role/*" && can(s.Condition.StringEquals["iam:AWSServiceName"]))
    if strcontains(r, ":role/")]) if s.Effect == "Allow"])])
    error_message = "the roles an apply role may write are its environment's (and service-linked roles of named services)"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : { for s in jsondecode(data.aws_iam_policy_document.apply[e].json).Statement :
      try(s.Condition.StringEquals["iam:PassedToService"], "(no condition)") => toset(flatten([s.Resource])) if s.Effect == "Allow" && contains(flatten([s.Action]), "iam:PassRole")
      } == {
      "ecs-tasks.amazonaws.com"     = toset(["arn:aws:iam::123456789012:role/flightdelay-${e}-task-exec", "arn:aws:iam::123456789012:role/flightdelay-${e}-*-task"])
      "scheduler.amazonaws.com"     = toset(["arn:aws:iam::123456789012:role/flightdelay-${e}-*-sched-*"])
      "vpc-flow-logs.amazonaws.com" = toset(["arn:aws:iam::123456789012:role/flightdelay-${e}-flow-*"])
    }])
    error_message = "the apply role passes its environment's task roles to ECS tasks, its scheduler roles to the scheduler and its flow-log role to VPC flow logs, nothing else"
  }
  assert {
    condition     = aws_iam_policy.boundary["dev"].name == "flightdelay-permissions-boundary-dev" && aws_iam_policy.boundary["prod"].name == "flightdelay-permissions-boundary-prod"
    error_message = "the boundaries have the names envs/dev and envs/prod look them up by"
  }
}

run "the_boundary_is_the_most_a_stack_role_may_do" {
  command = plan
  assert {
    condition = alltrue([for e in ["dev", "prod"] : alltrue([for s in jsondecode(data.aws_iam_policy_document.boundary[e].json).Statement :
      s.Effect == "Allow" && alltrue([for a in flatten([s.Action]) : !endswith(a, "*")])
    ])])
    error_message = "the boundary allows named actions only"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : toset(flatten([for s in jsondecode(data.aws_iam_policy_document.boundary[e].json).Statement :
      [for a in flatten([s.Action]) : a if startswith(a, "iam:")]
    ])) == toset(["iam:PassRole"])])
    error_message = "a stack role can do nothing in IAM but pass its environment's task roles"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : alltrue([for s in jsondecode(data.aws_iam_policy_document.boundary[e].json).Statement : alltrue([
      for r in flatten([s.Resource]) : strcontains(r, "flightdelay-${e}") || r == "*" || r == "arn:aws:ecr:*:123456789012:repository/flightdelay/*" || (r == "arn:aws:kms:*:123456789012:key/*" && can(s.Condition.StringLike["kms:ViaService"]))
    ])])])
    error_message = "everything a stack role may reach is named after its environment (keys only through S3, SSM and Secrets Manager; the shared image repositories)"
  }
  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.boundary["dev"].json).Statement : try(s.Condition, null) if contains(flatten([s.Action]), "iam:PassRole")]) == { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
    error_message = "a stack role passes roles to ECS tasks only"
  }
}

run "the_deploy_role_pushes_to_the_project_repositories_and_registers_its_own_families" {
  command = plan
  assert {
    condition = alltrue([for e in ["dev", "prod"] : one([for s in jsondecode(data.aws_iam_policy_document.deploy[e].json).Statement : s.Resource if s.Sid == "PushImages"]) ==
    "arn:aws:ecr:*:123456789012:repository/flightdelay/*"])
    error_message = "images go to the account's flightdelay/<image> repositories (modules/ecr), not flightdelay-<env>/*"
  }
  assert {
    condition = length(setsubtract(toset(["ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]),
    toset(flatten([for s in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : flatten([s.Action]) if s.Sid == "PushImages"])))) == 0
    error_message = "a push needs the layer upload actions and PutImage"
  }
  assert {
    condition = alltrue([for e in ["dev", "prod"] : [for s in jsondecode(data.aws_iam_policy_document.deploy[e].json).Statement : toset(flatten([s.Resource])) if contains(flatten([s.Action]), "ecs:RegisterTaskDefinition")] == [
      toset([for f in ["api", "conditions", "evaluator", "fetcher", "training"] : "arn:aws:ecs:*:123456789012:task-definition/flightdelay-${e}-${f}:*"])
    ]])
    error_message = "RegisterTaskDefinition is granted once, on the environment's five task families only"
  }
  assert {
    condition     = length([for s in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : s if contains(flatten([s.Action]), "ecs:DeregisterTaskDefinition")]) == 0
    error_message = "the deploy role deregisters nothing (a rollback points back to the previous revision)"
  }
  assert {
    condition = { for s in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : s.Sid => toset(flatten([s.Resource])) if contains(["RollOutTheApiService", "DescribeTasksOfThisCluster", "MoveTheSchedules", "RecordTheImageTag"], s.Sid) } == {
      RollOutTheApiService       = toset(["arn:aws:ecs:*:123456789012:service/flightdelay-dev/*"])
      DescribeTasksOfThisCluster = toset(["arn:aws:ecs:*:123456789012:task/flightdelay-dev/*"])
      MoveTheSchedules           = toset([for f in ["conditions", "evaluator", "fetcher", "training"] : "arn:aws:scheduler:*:123456789012:schedule/default/flightdelay-dev-${f}"])
      RecordTheImageTag          = toset(["arn:aws:ssm:*:123456789012:parameter/flightdelay-dev/image-tag"])
    }
    error_message = "the deploy role updates its own service, reads its own cluster's tasks, moves its own schedules and records its own tag"
  }
  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : flatten([s.Action]) if contains(["RollOutTheApiService", "MoveTheSchedules"], s.Sid)])) == toset([
      "ecs:DescribeServices", "ecs:UpdateService", "scheduler:GetSchedule", "scheduler:UpdateSchedule",
    ])
    error_message = "it may describe and update the service, read and update the schedules"
  }
  assert {
    condition = { for s in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement :
      try(s.Condition.StringEquals["iam:PassedToService"], "(no condition)") => toset(flatten([s.Resource])) if contains(flatten([s.Action]), "iam:PassRole")
      } == {
      "ecs-tasks.amazonaws.com" = toset(["arn:aws:iam::123456789012:role/flightdelay-dev-task-exec", "arn:aws:iam::123456789012:role/flightdelay-dev-*-task"])
      "scheduler.amazonaws.com" = toset(["arn:aws:iam::123456789012:role/flightdelay-dev-*-sched-*"])
    }
    error_message = "the deploy role passes its task and execution roles to ECS tasks and its scheduler roles to the scheduler, nothing else"
  }
}

run "dev_can_touch_nothing_of_prod" {
  command = plan
  assert {
    condition     = !strcontains(data.aws_iam_policy_document.apply["dev"].json, "prod") && !strcontains(data.aws_iam_policy_document.deploy["dev"].json, "prod") && !strcontains(data.aws_iam_policy_document.boundary["dev"].json, "prod")
    error_message = "dev's apply and deploy policies and its boundary name nothing of prod"
  }
  assert {
    condition     = !strcontains(data.aws_iam_policy_document.apply["prod"].json, "flightdelay-dev") && !strcontains(data.aws_iam_policy_document.deploy["prod"].json, "flightdelay-dev")
    error_message = "and prod's nothing of dev"
  }
  assert {
    condition = one([for s in jsondecode(data.aws_iam_policy_document.apply["dev"].json).Statement : {
      effect = s.Effect, not_resources = toset(flatten([s.NotResource]))
      } if s.Sid == "NoOtherObjects"]) == {
      effect = "Deny", not_resources = toset(["arn:aws:s3:::fd-tfstate/flightdelay/dev/*", "arn:aws:s3:::flightdelay-dev-*"])
    }
    error_message = "ReadOnlyAccess reads every object; dev's apply role is denied every object but its state and its buckets (prod's state included)"
  }
  assert {
    condition = one([for s in jsondecode(data.aws_iam_policy_document.apply["dev"].json).Statement : try(s.Condition, null) if s.Sid == "OtherEnvironmentsResources" && s.Effect == "Deny" && try(s.Resource, "") == "*"]) == {
      Null            = { "aws:ResourceTag/Environment" = "false" }
      StringNotEquals = { "aws:ResourceTag/Environment" = "dev" }
    }
    error_message = "dev's apply role is denied every resource tagged for another environment"
  }
  assert {
    condition = alltrue([
      for a in flatten([for s in jsondecode(data.aws_iam_policy_document.apply["dev"].json).Statement : flatten([s.Action]) if contains(["Network", "ApiAutoscaling", "ManageKeys"], s.Sid)]) :
      anytrue([for d in flatten([for s in jsondecode(data.aws_iam_policy_document.apply["dev"].json).Statement : flatten([s.Action]) if s.Sid == "OtherEnvironmentsResources"]) :
      a == d || (endswith(d, ":*") && startswith(a, trimsuffix(d, "*")))])
    ])
    error_message = "every action allowed on resources AWS names (VPC parts, keys, scaling targets) is denied on another environment's"
  }
  assert {
    condition     = length([for s in jsondecode(data.aws_iam_policy_document.apply["dev"].json).Statement : s if s.Sid == "OtherEnvironmentsResources" && anytrue([for a in flatten([s.Action]) : startswith(a, "kms:Decrypt") || a == "kms:*"])]) == 0
    error_message = "the tag Deny leaves kms:Decrypt alone: the state key (tagged for the account) is used through S3"
  }
}

run "the_plan_role_decrypts_no_secret" {
  command = plan
  assert {
    condition = [for s in jsondecode(data.aws_iam_policy_document.plan_state.json).Statement : try(s.Condition, null) if s.Effect == "Allow" && length(setintersection(toset(flatten([s.Action])), toset(["kms:Decrypt", "kms:*"]))) > 0] == [{
      StringLike = {
        "kms:ViaService"                   = "s3.*.amazonaws.com"
        "kms:EncryptionContext:aws:s3:arn" = ["arn:aws:s3:::fd-tfstate", "arn:aws:s3:::fd-tfstate/flightdelay/*"]
      }
    }]
    error_message = "the plan role decrypts state objects through S3 and nothing else"
  }
  assert {
    condition     = length([for s in jsondecode(data.aws_iam_policy_document.plan_state.json).Statement : s if s.Effect == "Allow" && anytrue([for a in flatten([s.Action]) : startswith(a, "ssm:") || startswith(a, "secretsmanager:")])]) == 0
    error_message = "the plan role's own policy allows no parameter nor secret"
  }
  # ReadOnlyAccess includes ssm:GetParameter: explicit denials, checked against the parameter's real
  # name (modules/secrets: /<stack>/aviationstack/access-key).
  assert {
    condition = alltrue([for doc in [data.aws_iam_policy_document.never_read_secrets.json] : anytrue([
      for s in jsondecode(doc).Statement : s.Effect == "Deny" && length(setsubtract(toset(["ssm:GetParameter", "ssm:GetParameters"]), toset(flatten([s.Action])))) == 0 && alltrue([
        for p in ["dev", "prod"] : can(regex("^${replace(try(s.Resource, "-"), "*", ".*")}$", "arn:aws:ssm:us-east-1:123456789012:parameter/flightdelay-${p}/aviationstack/access-key"))
      ])
    ])])
    error_message = "the plan and apply roles are denied reading any environment's Aviation Stack key"
  }
  assert {
    condition = alltrue([for doc in [data.aws_iam_policy_document.never_read_secrets.json] : anytrue([
      for s in jsondecode(doc).Statement : s.Effect == "Deny" && s.Action == "kms:Decrypt" && try(s.Resource, "") == "*" && can(regex(
        "^${replace(try(s.Condition.StringLike["kms:EncryptionContext:PARAMETER_ARN"], "-"), "*", ".*")}$", "arn:aws:ssm:us-east-1:123456789012:parameter/flightdelay-prod/aviationstack/access-key"
      ))
    ])])
    error_message = "and denied decrypting it with any key (the encryption context SSM gives KMS names the parameter)"
  }
  assert {
    condition     = length([for s in jsondecode(data.aws_iam_policy_document.never_read_secrets.json).Statement : s if s.Effect != "Deny"]) == 0 && anytrue([for s in jsondecode(data.aws_iam_policy_document.never_read_secrets.json).Statement : s.Action == "secretsmanager:GetSecretValue"])
    error_message = "the shared policy only denies (secret values included)"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.terraform_plan_never_read_secrets.role == aws_iam_role.terraform_plan.name && alltrue([for e in ["dev", "prod"] : aws_iam_role_policy_attachment.terraform_apply_never_read_secrets[e].role == aws_iam_role.terraform_apply[e].name])
    error_message = "the denials are attached to the plan role and to every apply role"
  }
  assert {
    condition = alltrue([for s in jsondecode(data.aws_iam_policy_document.plan_state.json).Statement :
    alltrue([for r in flatten([s.Resource]) : endswith(r, ".tflock")]) if s.Effect == "Allow" && contains(flatten([s.Action]), "s3:PutObject")])
    error_message = "plan may write and delete the lock files, never a state"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.terraform_plan.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    error_message = "the plan role reads through ReadOnlyAccess, which has no kms:Decrypt"
  }
  assert {
    condition = one([for s in jsondecode(data.aws_iam_policy_document.plan_state.json).Statement : s.Resource if s.Sid == "ReadWhatReadOnlyAccessLacks" && s.Action == "glue:GetPartitionIndexes"]) == [
      "arn:aws:glue:*:123456789012:table/flightdelay_*/*",
      "arn:aws:glue:*:123456789012:database/flightdelay_*",
      "arn:aws:glue:*:123456789012:catalog",
    ]
    error_message = "the plan role reads partition indexes (ReadOnlyAccess lacks it) of this project's catalog only"
  }
}

run "github_cannot_be_an_environment" {
  command = plan
  variables {
    environments = ["dev", "github"]
  }
  expect_failures = [var.environments]
}

run "the_oidc_provider_is_made_when_asked" {
  command = plan
  variables {
    create_oidc_provider = true
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1 && one(aws_iam_openid_connect_provider.github).client_id_list == toset(["sts.amazonaws.com"])
    error_message = "the account's GitHub OIDC provider, for the STS audience"
  }
  assert {
    condition     = [for v in one([for c in data.aws_iam_policy_document.trust["dev"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]) : v] == ["repo:example-org/flightdelay:environment:dev"]
    error_message = "the trust still names the environment"
  }
}

# IAM limits: 10,240 characters of inline policy per role, 6,144 per managed policy (whitespace
# aside): checked for the longest environment name and a long state bucket name.
run "every_policy_fits_within_iam_limits" {
  command = plan
  variables {
    environments               = ["abcdefghij", "prod"]
    terraform_state_bucket_arn = "arn:aws:s3:::flightdelay-tfstate-123456789012-with-a-long-name-xy"
  }
  assert {
    condition     = alltrue([for e, d in data.aws_iam_policy_document.apply : length(jsonencode(jsondecode(d.json))) <= 10240])
    error_message = "an apply role's inline policy exceeds IAM's 10,240 characters"
  }
  assert {
    condition     = alltrue([for e, d in data.aws_iam_policy_document.deploy : length(jsonencode(jsondecode(d.json))) <= 10240]) && length(jsonencode(jsondecode(data.aws_iam_policy_document.plan_state.json))) <= 10240
    error_message = "a deploy or plan role's inline policy exceeds IAM's 10,240 characters"
  }
  assert {
    condition     = alltrue([for e, d in data.aws_iam_policy_document.boundary : length(jsonencode(jsondecode(d.json))) <= 6144]) && length(jsonencode(jsondecode(data.aws_iam_policy_document.never_read_secrets.json))) <= 6144
    error_message = "a managed policy (boundary, never-read-secrets) exceeds IAM's 6,144 characters"
  }
}
