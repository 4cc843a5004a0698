variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "us-east-1"
}

variable "github_repository" {
  type        = string
  description = "owner/name of the GitHub repository whose workflows deploy here."
}

variable "terraform_state_bucket" {
  type        = string
  description = "Name of the bucket holding the Terraform state (the one in backend.hcl)."
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider (false when another environment of the account made it)."
  default     = true
}

variable "image_registry" {
  type        = string
  description = "\"ecr\" or \"dockerhub\"."
  default     = "ecr"
}

variable "dockerhub_namespace" {
  type        = string
  description = "Docker Hub namespace when image_registry is \"dockerhub\"."
  default     = ""
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for HTTPS on the ALB (null: HTTP only)."
  default     = null
}

variable "alarm_email" {
  type        = string
  description = "E-mail for the alarms (null: none)."
  default     = null
}
