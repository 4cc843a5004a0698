variable "environment" {
  type        = string
  description = "Environment name: part of every resource name and the trusted GitHub environment."
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters or digits."
  }
}

variable "image_registry" {
  type        = string
  description = "\"ecr\" (the account's flightdelay/<image> repositories, made by envs/account) or \"dockerhub\"."
  default     = "ecr"
  validation {
    condition     = contains(["ecr", "dockerhub"], var.image_registry)
    error_message = "image_registry must be \"ecr\" or \"dockerhub\"."
  }
}

variable "dockerhub_namespace" {
  type        = string
  description = "Docker Hub namespace when image_registry is \"dockerhub\"."
  default     = ""
}

variable "bootstrap_image_tag" {
  type        = string
  description = "Image tag until the deploy workflow records one in the /<name>/image-tag parameter (push it once before the first apply)."
  default     = "bootstrap"
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the VPC."
  default     = "10.40.0.0/16"
}

variable "nat_gateway_mode" {
  type        = string
  description = "\"single\" or \"per_az\"."
  default     = "single"
}

variable "fargate_spot_weight" {
  type        = number
  description = "Weight of FARGATE_SPOT in the cluster's default strategy."
  default     = 0
}

variable "api_task" {
  type = object({
    cpu           = optional(number, 512)
    memory        = optional(number, 1024)
    desired_count = optional(number, 1)
    min_count     = optional(number, 1)
    max_count     = optional(number, 3)
    workers       = optional(number, 1)
  })
  description = "Size and scaling of the API."
  default     = {}
}

variable "schedules" {
  type = object({
    fetcher    = optional(string, "cron(30 2 * * ? *)")
    conditions = optional(string, "cron(5 * * * ? *)") # hourly, after the METARs of :51–:56
    evaluator  = optional(string, "cron(30 4 * * ? *)")
    training   = optional(string, "cron(0 5 ? * SUN *)")
  })
  description = "When the tasks run (UTC): fetcher daily, conditions hourly, evaluator daily after the fetcher, training weekly."
  default     = {}
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for HTTPS on the ALB (null: HTTP only)."
  default     = null
}

variable "enable_http_warning" {
  type        = bool
  description = "Warn at plan time when the ALB serves plain HTTP (no certificate_arn); envs/prod sets it."
  default     = false
}

variable "alarm_email" {
  type        = string
  description = "E-mail for the alarms (null: none)."
  default     = null
}

variable "enable_deletion_protection" {
  type        = bool
  description = "ALB deletion protection."
  default     = true
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy non-empty buckets (throwaway environments only)."
  default     = false
}

variable "permissions_boundary" {
  type        = string
  description = "ARN of the permissions boundary every IAM role of the stack carries (null: none). envs/account makes one per environment, <name_prefix>-permissions-boundary-<env>; the pipeline's apply role can create a role only with it."
  default     = null
}

variable "enable_live_departures" {
  type        = bool
  description = "The hourly conditions task also reads each airport's departures from Aviation Stack (about airports × 2 requests an hour)."
  default     = false
}
