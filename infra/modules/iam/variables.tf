variable "name_prefix" {
  type        = string
  description = "Prefix of the role names, e.g. \"flightdelay-dev\"."
}

variable "buckets" {
  type = object({
    data_arn    = string
    models_arn  = string
    kms_key_arn = string
  })
  description = "The DATA and MODELS bucket ARNs and the key that encrypts them (from the storage module)."
}

variable "log_group_arns" {
  type        = list(string)
  description = "Log groups the task execution role may write to."
}

variable "aviationstack_key_parameter_arn" {
  type        = string
  description = "The one SSM parameter the execution role may read (injected into the fetcher)."
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "KMS key of that parameter (and of the Docker Hub secret, if any)."
}

variable "ecr_repository_arns" {
  type        = list(string)
  description = "Repositories the execution role may pull from (empty with Docker Hub)."
  default     = []
}

variable "dockerhub_pull_secret_arn" {
  type        = string
  description = "Secrets Manager ARN of the Docker Hub credentials, when images come from Docker Hub."
  default     = null
}

variable "permissions_boundary" {
  type        = string
  description = "ARN of the permissions boundary every role of this module carries (null: none). The pipeline's apply role can create a role only with its environment's boundary (modules/github-oidc)."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
