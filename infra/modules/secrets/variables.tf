variable "name_prefix" {
  type        = string
  description = "Prefix of the parameter paths and key alias, e.g. \"flightdelay-dev\"."
}

variable "create_dockerhub_pull_secret" {
  type        = bool
  description = "Create a Secrets Manager secret for Docker Hub pull credentials (images from Docker Hub)."
  default     = false
}

variable "bootstrap_image_tag" {
  type        = string
  description = "First value of the image-tag parameter (the deploy workflow writes it from then on)."
  default     = "bootstrap"
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
