variable "name_prefix" {
  type        = string
  description = "Prefix of the repository names, e.g. \"flightdelay\" → flightdelay/api."
  default     = "flightdelay"
}

variable "images" {
  type        = list(string)
  description = "One repository per image (the targets of the root Dockerfile)."
  default     = ["api", "fetcher", "conditions", "evaluator", "training"]
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the repositories (null: the AWS managed aws/ecr key)."
  default     = null
}

variable "force_delete" {
  type        = bool
  description = "Let terraform destroy repositories that still hold images (throwaway accounts only)."
  default     = false
}

variable "keep_images" {
  type        = number
  description = "Images no environment has run kept per repository (newest first); older ones expire."
  default     = 30
}

variable "protected_tag_prefixes" {
  type        = list(string)
  description = "Tag prefixes that mark an image an environment runs or ran (the deploy tags it <env>-<sha>): never expired."
  default     = ["dev-", "prod-"]
  validation {
    condition     = length(var.protected_tag_prefixes) > 0 && alltrue([for p in var.protected_tag_prefixes : can(regex("^[a-z0-9][a-z0-9._-]*-$", p))])
    error_message = "protected_tag_prefixes needs at least one prefix, each ending in \"-\" (e.g. \"prod-\"), so no commit SHA can match it."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
