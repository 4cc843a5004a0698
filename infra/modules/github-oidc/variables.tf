variable "name_prefix" {
  type        = string
  description = "Project prefix: environment stacks are named \"<name_prefix>-<environment>\" (e.g. flightdelay-dev)."
  default     = "flightdelay"
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
  description = "GitHub environments, one stack each (e.g. [\"dev\", \"prod\"]): each gets its deploy and apply roles."
  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9]{1,9}$", e))])
    error_message = "environment names are 2-10 lowercase letters or digits, as in modules/stack."
  }
  validation {
    # The workflow roles are <name_prefix>-github-…: a stack called <name_prefix>-github could change them.
    condition     = !contains(var.environments, "github")
    error_message = "\"github\" cannot be an environment: its stack's names would cover the workflow roles."
  }
}

variable "task_families" {
  type        = list(string)
  description = "Task definition families of a stack without its \"<stack>-\" prefix (modules/stack): the only ones its deploy role may register, and the schedules it may move."
  default     = ["api", "conditions", "evaluator", "fetcher", "training"]
}

variable "create_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider (false where something else in the account already made it)."
  default     = true
}

variable "terraform_state_bucket_arn" {
  type        = string
  description = "The Terraform state bucket (states under <name_prefix>/<environment>/)."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
