variable "name" {
  type        = string
  description = "Name of the VPC and prefix of its parts."
}

variable "cidr_block" {
  type        = string
  description = "CIDR of the VPC; /16 leaves room for the /20 subnets carved from it."
  default     = "10.40.0.0/16"
  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 18
    error_message = "cidr_block must be a valid CIDR of /18 or larger."
  }
}

variable "az_count" {
  type        = number
  description = "Availability zones to spread subnets over (the ALB needs at least 2)."
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4."
  }
}

variable "nat_gateway_mode" {
  type        = string
  description = "\"single\" (one NAT gateway, cheaper) or \"per_az\" (one per zone, survives a zone outage)."
  default     = "single"
  validation {
    condition     = contains(["single", "per_az"], var.nat_gateway_mode)
    error_message = "nat_gateway_mode must be \"single\" or \"per_az\"."
  }
}

variable "flow_log_retention_days" {
  type        = number
  description = "Retention of the VPC flow logs."
  default     = 30
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the flow-log group (the observability module's logs key)."
}

variable "permissions_boundary" {
  type        = string
  description = "ARN of the permissions boundary the flow-log role carries (null: none). The pipeline's apply role can create a role only with its environment's boundary (modules/github-oidc)."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
