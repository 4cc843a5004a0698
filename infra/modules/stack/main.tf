# The whole system in one account and region: every module, wired together. The environment
# roots (envs/dev, envs/prod) call this with their own settings and nothing else.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name   = "flightdelay-${var.environment}"
  images = ["api", "fetcher", "conditions", "evaluator", "training"]
  # Repositories: the account's ECR flightdelay/<image> (envs/account made them; named here, not
  # looked up, so an environment plans and applies without the account root) or Docker Hub.
  ecr_registry = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${data.aws_region.current.name}.amazonaws.com"
  repository = {
    for image in local.images : image => (
      var.image_registry == "ecr" ? "${local.ecr_registry}/flightdelay/${image}" : "docker.io/${var.dockerhub_namespace}/flightdelay-${image}"
    )
  }
  repository_arns = var.image_registry == "ecr" ? [
    for image in local.images : "arn:${data.aws_partition.current.partition}:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/flightdelay/${image}"
  ] : []
  # Every task definition runs the tag the deploy workflow recorded (module.secrets.image_tag).
  image = { for k, repo in local.repository : k => "${repo}:${module.secrets.image_tag}" }
  schedules = {
    fetcher    = { cron = var.schedules.fetcher, command = [], cpu = 512, memory = 1024 }
    conditions = { cron = var.schedules.conditions, command = [], cpu = 256, memory = 1024 }
    evaluator  = { cron = var.schedules.evaluator, command = [], cpu = 1024, memory = 4096 }
    training   = { cron = var.schedules.training, command = [], cpu = 2048, memory = 8192 }
  }
}

module "storage" {
  source        = "../../modules/storage"
  name_prefix   = "${local.name}-${data.aws_caller_identity.current.account_id}"
  force_destroy = var.force_destroy
}

module "analytics" {
  source          = "../../modules/analytics"
  name_prefix     = local.name
  data_bucket_arn = module.storage.data_bucket_arn
  kms_key_arn     = module.storage.kms_key_arn
  force_destroy   = var.force_destroy
}

module "secrets" {
  source                       = "../../modules/secrets"
  name_prefix                  = local.name
  create_dockerhub_pull_secret = var.image_registry == "dockerhub"
  bootstrap_image_tag          = var.bootstrap_image_tag
}


module "observability" {
  source       = "../../modules/observability"
  name_prefix  = local.name
  cluster_name = module.ecs_cluster.cluster_name
  cluster_arn  = module.ecs_cluster.cluster_arn
  alarm_email  = var.alarm_email
  alb          = { arn_suffix = module.api.alb_arn_suffix, target_group_arn_suffix = module.api.target_group_arn_suffix }
  dead_letter_queue_names = {
    for k, m in module.schedule : k => m.dead_letter_queue_name
  }
  api_service_name = module.api.service_name
  task_families    = { for k, m in module.schedule : k => m.task_family }
}

module "network" {
  source               = "../../modules/network"
  name                 = local.name
  cidr_block           = var.vpc_cidr
  nat_gateway_mode     = var.nat_gateway_mode
  kms_key_arn          = module.observability.logs_kms_key_arn
  permissions_boundary = var.permissions_boundary
}

module "ecs_cluster" {
  source              = "../../modules/ecs-cluster"
  name                = local.name
  fargate_spot_weight = var.fargate_spot_weight
}

module "iam" {
  source               = "../../modules/iam"
  name_prefix          = local.name
  permissions_boundary = var.permissions_boundary
  buckets = {
    data_arn    = module.storage.data_bucket_arn
    models_arn  = module.storage.models_bucket_arn
    kms_key_arn = module.storage.kms_key_arn
  }
  log_group_arns                  = values(module.observability.log_group_arns)
  aviationstack_key_parameter_arn = module.secrets.aviationstack_key_parameter_arn
  secrets_kms_key_arn             = module.secrets.kms_key_arn
  ecr_repository_arns             = local.repository_arns
  dockerhub_pull_secret_arn       = module.secrets.dockerhub_pull_secret_arn
}

module "api" {
  source      = "../../modules/api-service"
  name        = "${local.name}-api"
  cluster_arn = module.ecs_cluster.cluster_arn
  network = {
    vpc_id             = module.network.vpc_id
    public_subnet_ids  = module.network.public_subnet_ids
    private_subnet_ids = module.network.private_subnet_ids
  }
  image                      = local.image["api"]
  task                       = var.api_task
  roles                      = { task_exec_arn = module.iam.task_exec_role_arn, task_arn = module.iam.task_role_arns["api"] }
  models_url                 = "s3://${module.storage.models_bucket_name}"
  data_url                   = "s3://${module.storage.data_bucket_name}"
  log_group_name             = module.observability.log_group_names["api"]
  certificate_arn            = var.certificate_arn
  enable_http_warning        = var.enable_http_warning
  access_logs_bucket         = module.storage.log_bucket_name
  enable_deletion_protection = var.enable_deletion_protection
  repository_credentials_arn = module.secrets.dockerhub_pull_secret_arn
}

module "schedule" {
  source              = "../../modules/scheduled-task"
  for_each            = local.schedules
  name                = "${local.name}-${each.key}"
  schedule_expression = each.value.cron
  cluster_arn         = module.ecs_cluster.cluster_arn
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.private_subnet_ids
  container = {
    image   = local.image[each.key]
    command = each.value.command
    cpu     = each.value.cpu
    memory  = each.value.memory
    environment = merge(
      {
        FLIGHTDELAY_DATA_URL   = "s3://${module.storage.data_bucket_name}"
        FLIGHTDELAY_MODELS_URL = "s3://${module.storage.models_bucket_name}"
        FLIGHTDELAY_AWS_REGION = data.aws_region.current.name
      },
      # Live departures cost Aviation Stack requests every hour: opt-in (services/conditions/README.md).
      each.key == "conditions" ? { FLIGHTDELAY_CONDITIONS_DEPARTURES = tostring(var.enable_live_departures) } : {},
      # The watch's embedded metrics land in the namespace the observability alarms read.
      each.key == "evaluator" ? { FLIGHTDELAY_METRICS_NAMESPACE = "flightdelay/${local.name}" } : {},
    )
    secrets = contains(["fetcher", "conditions"], each.key) ? { FLIGHTDELAY_AVIATIONSTACK_KEY = module.secrets.aviationstack_key_parameter_arn } : {}
  }
  roles                      = { task_exec_arn = module.iam.task_exec_role_arn, task_arn = module.iam.task_role_arns[each.key] }
  log_group_name             = module.observability.log_group_names[each.key]
  repository_credentials_arn = module.secrets.dockerhub_pull_secret_arn
  permissions_boundary       = var.permissions_boundary
}
