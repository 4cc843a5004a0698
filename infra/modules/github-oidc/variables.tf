variable "name_prefix" {
  type        = string
  description = "Prefix of the role names, e.g. \"flightdelay-dev\"."
}

variable "github_repository" {
  type        = string
  description = "owner/name of the repository whose workflows may assume the roles."
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "environments" {
  type        = list(string)
  description = "GitHub environments (besides the main branch) trusted to deploy and apply, e.g. [\"dev\"]."
  default     = []
}

variable "create_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider (one per account: false in the second environment)."
  default     = true
}

variable "deploy" {
  type = object({
    ecr_repository_arns = list(string)
    cluster_arn         = string
    service_arns        = list(string)
    task_role_arns      = list(string)
  })
  description = "What the deploy role may touch: repositories to push to, the cluster and services to update, roles to pass."
}

variable "terraform_state_bucket_arn" {
  type        = string
  description = "The Terraform state bucket (the plan role reads it, the apply role writes it)."
}

variable "terraform_apply_policy_arns" {
  type        = list(string)
  description = "Managed policies of the apply role (it creates the whole stack: IAM, VPC, ECS, S3…)."
  default     = ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
