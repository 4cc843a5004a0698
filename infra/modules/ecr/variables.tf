variable "name_prefix" {
  type        = string
  description = "Prefix of the repository names, e.g. \"flightdelay\" → flightdelay/api."
}

variable "images" {
  type        = list(string)
  description = "One repository per image."
  default     = ["api", "fetcher", "evaluator", "training"]
}

variable "image_registry" {
  type        = string
  description = "\"ecr\" (repositories here) or \"dockerhub\" (pull from Docker Hub with credentials in Secrets Manager)."
  default     = "ecr"
  validation {
    condition     = contains(["ecr", "dockerhub"], var.image_registry)
    error_message = "image_registry must be \"ecr\" or \"dockerhub\"."
  }
}

variable "dockerhub_namespace" {
  type        = string
  description = "Docker Hub namespace of the images when image_registry is \"dockerhub\"."
  default     = ""
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the repositories and the Docker Hub pull secret (the secrets module's key)."
}

variable "keep_images" {
  type        = number
  description = "Tagged images kept per repository; older ones expire."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
