variable "name_prefix" {
  type        = string
  description = "Prefix of every bucket name, e.g. \"flightdelay-dev-123456789012\" (bucket names are global)."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying buckets that still hold objects (keep false outside throwaway environments)."
  default     = false
}

variable "lifecycle_days" {
  type = object({
    raw_to_infrequent_access = optional(number, 30)
    raw_to_glacier           = optional(number, 90)
    noncurrent_expiration    = optional(number, 90)
    access_logs_expiration   = optional(number, 365)
    query_results_expiration = optional(number, 30)
  })
  description = "Ages (days) for the lifecycle rules: raw API pages move to IA then Glacier; Athena results and old versions expire."
  default     = {}
  validation {
    condition     = var.lifecycle_days.raw_to_glacier > var.lifecycle_days.raw_to_infrequent_access && var.lifecycle_days.raw_to_infrequent_access >= 30
    error_message = "raw_to_infrequent_access must be at least 30 days (an S3 rule) and before raw_to_glacier."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
