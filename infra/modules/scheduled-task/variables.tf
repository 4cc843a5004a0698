variable "name" {
  type        = string
  description = "Name of the task family, schedule and dead-letter queue, e.g. \"flightdelay-dev-fetcher\"."
}

variable "schedule_expression" {
  type        = string
  description = "When to run: cron(…) or rate(…) in EventBridge Scheduler syntax, e.g. \"cron(30 2 * * ? *)\"."
  validation {
    condition     = can(regex("^(cron|rate|at)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be cron(…), rate(…) or at(…)."
  }
}

variable "schedule_timezone" {
  type        = string
  description = "Time zone of the cron expression."
  default     = "UTC"
}

variable "cluster_arn" {
  type        = string
  description = "ECS cluster to run the task in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the task."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the task's security group."
}

variable "container" {
  type = object({
    image       = string
    command     = optional(list(string), [])
    cpu         = optional(number, 512)
    memory      = optional(number, 1024)
    environment = optional(map(string), {})
    secrets     = optional(map(string), {})
  })
  description = "Image (first revision; later ones belong to the deploy workflow), command, size, environment, and secrets (env name → SSM parameter ARN)."
}

variable "roles" {
  type = object({
    task_exec_arn = string
    task_arn      = string
  })
  description = "Execution role and the service's task role (from the iam module)."
}

variable "log_group_name" {
  type        = string
  description = "CloudWatch log group of the task."
}

variable "retry" {
  type = object({
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 3600)
  })
  description = "How the scheduler retries a run it could not start."
  default     = {}
}

variable "repository_credentials_arn" {
  type        = string
  description = "Secrets Manager ARN of Docker Hub pull credentials, when the image comes from Docker Hub."
  default     = null
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed key for the schedule's data (null: an AWS owned key)."
  default     = null
}

variable "permissions_boundary" {
  type        = string
  description = "ARN of the permissions boundary the scheduler role carries (null: none). The pipeline's apply role can create a role only with its environment's boundary (modules/github-oidc)."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
