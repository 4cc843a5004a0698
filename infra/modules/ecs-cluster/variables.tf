variable "name" {
  type        = string
  description = "Name of the ECS cluster."
}

variable "fargate_spot_weight" {
  type        = number
  description = "Weight of FARGATE_SPOT in the default capacity provider strategy (FARGATE keeps a base of 1)."
  default     = 0
  validation {
    condition     = var.fargate_spot_weight >= 0 && var.fargate_spot_weight <= 10
    error_message = "fargate_spot_weight must be between 0 and 10."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
