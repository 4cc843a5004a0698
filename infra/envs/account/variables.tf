variable "region" {
  type        = string
  description = "AWS region of the state bucket."
  default     = "us-east-1"
}

variable "github_repository" {
  type        = string
  description = "owner/name of the GitHub repository whose workflows deploy to this account."
}

variable "environments" {
  type        = list(string)
  description = "The environments (GitHub environments and envs/<name> roots) this account holds."
  default     = ["dev", "prod"]
}

variable "state_bucket" {
  type        = string
  description = "Name of the state bucket (default: flightdelay-tfstate-<account id>)."
  default     = null
}

variable "create_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider (false when the account already has one)."
  default     = true
}

variable "ecr_force_delete" {
  type        = bool
  description = "Let terraform destroy image repositories that still hold images (throwaway accounts only)."
  default     = false
}
