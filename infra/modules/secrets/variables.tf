variable "name_prefix" {
  type        = string
  description = "Prefix of the parameter path and key alias, e.g. \"flightdelay-dev\"."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
