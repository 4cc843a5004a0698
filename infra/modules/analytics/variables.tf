variable "name_prefix" {
  type        = string
  description = "Name of the workgroup and the analyst policy; the database is this with \"_\" for \"-\" (e.g. flightdelay_dev)."
}

variable "data_bucket_arn" {
  type        = string
  description = "The DATA bucket (training/ and new/clean/ are read; query results go to athena-results/)."
}

variable "kms_key_arn" {
  type        = string
  description = "The DATA bucket's KMS key: query results are encrypted with it."
}

variable "first_date" {
  type        = string
  description = "First day partition projection looks for (YYYY-MM-DD)."
  default     = "2013-01-01"
  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.first_date))
    error_message = "first_date must be YYYY-MM-DD."
  }
}

variable "bytes_scanned_cutoff_per_query" {
  type        = number
  description = "A query that would scan more bytes than this is cancelled (cost guard)."
  default     = 10737418240 # 10 GiB
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy the workgroup with its query history (throwaway environments)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
