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
  description = "Tagged images kept per repository; older ones expire."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
