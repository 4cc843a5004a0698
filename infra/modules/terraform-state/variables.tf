variable "bucket_name" {
  type        = string
  description = "Name of the state bucket (global: include something unique, e.g. the account id)."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "noncurrent_days" {
  type        = number
  description = "Days an overwritten state version is kept."
  default     = 90
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
