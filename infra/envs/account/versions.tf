terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0" # the major the tests and the committed lock file run
    }
  }
  # Local state on purpose: this root creates the state bucket the environments use.
}
