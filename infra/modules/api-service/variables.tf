variable "name" {
  type        = string
  description = "Name of the service, its task family, ALB and target group (ALB names: 32 characters at most)."
  validation {
    condition     = length(var.name) <= 28
    error_message = "name must be 28 characters or fewer (AWS limits load balancer names to 32)."
  }
}

variable "cluster_arn" {
  type        = string
  description = "ECS cluster to run in."
}

variable "network" {
  type = object({
    vpc_id             = string
    public_subnet_ids  = list(string)
    private_subnet_ids = list(string)
  })
  description = "VPC and subnets: the ALB in public subnets, the tasks in private ones."
}

variable "image" {
  type        = string
  description = "Image of the first task definition revision (repository:tag). Later revisions belong to the deploy workflow."
}

variable "task" {
  type = object({
    cpu           = optional(number, 512)
    memory        = optional(number, 1024)
    desired_count = optional(number, 2)
    min_count     = optional(number, 2)
    max_count     = optional(number, 6)
    workers       = optional(number, 1)
  })
  description = "Fargate size and scaling bounds of the API."
  default     = {}
  validation {
    condition     = var.task.min_count <= var.task.desired_count && var.task.desired_count <= var.task.max_count
    error_message = "need min_count <= desired_count <= max_count."
  }
}

variable "autoscaling" {
  type = object({
    cpu_percent         = optional(number, 60)
    requests_per_target = optional(number, 600)
  })
  description = "Target-tracking goals: average CPU and ALB requests per target per minute."
  default     = {}
}

variable "roles" {
  type = object({
    task_exec_arn = string
    task_arn      = string
  })
  description = "Execution role and the API's task role (from the iam module)."
}

variable "models_url" {
  type        = string
  description = "FLIGHTDELAY_MODELS_URL of the API, e.g. s3://<models bucket>."
}

variable "data_url" {
  type        = string
  description = "FLIGHTDELAY_DATA_URL of the API (it reads conditions/latest.json there), e.g. s3://<data bucket>."
}

variable "log_group_name" {
  type        = string
  description = "CloudWatch log group of the API containers."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for HTTPS; with one, HTTP redirects to HTTPS; without, the ALB serves HTTP."
  default     = null
}

variable "enable_http_warning" {
  type        = bool
  description = "Warn at plan time when the load balancer serves plain HTTP (no certificate_arn): true for an environment that must serve HTTPS (prod)."
  default     = false
}

variable "access_logs_bucket" {
  type        = string
  description = "Bucket for the ALB access logs (the storage module's log bucket)."
}

variable "enable_deletion_protection" {
  type        = bool
  description = "Protect the ALB from deletion (turn off only for throwaway environments)."
  default     = true
}

variable "repository_credentials_arn" {
  type        = string
  description = "Secrets Manager ARN of Docker Hub pull credentials, when the image comes from Docker Hub."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "health_check_path" {
  type        = string
  description = "Target group health check: a liveness path that answers 200 with or without a live model."
  default     = "/health"
}
