variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "us-east-1"
}

variable "image_registry" {
  type        = string
  description = "\"ecr\" (the account's repositories, made by envs/account) or \"dockerhub\"."
  default     = "ecr"
}

variable "dockerhub_namespace" {
  type        = string
  description = "Docker Hub namespace when image_registry is \"dockerhub\"."
  default     = ""
}

# CI passes the two below from repository variables, where "unset" arrives as "": both mean none.
variable "certificate_arn" {
  type        = string
  description = "ACM certificate for HTTPS on the ALB (null or \"\": HTTP only)."
  default     = null
}

variable "alarm_email" {
  type        = string
  description = "E-mail for the alarms (null or \"\": none)."
  default     = null
}

variable "permissions_boundary" {
  type        = string
  description = "ARN of the permissions boundary of every role (null: flightdelay-permissions-boundary-dev, made by envs/account)."
  default     = null
}
