mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix = "flightdelay-test"
}

run "the_key_is_named_here_and_never_managed_by_terraform" {
  command = plan
  assert {
    condition     = output.aviationstack_key_parameter_name == "/flightdelay-test/aviationstack/access-key"
    error_message = "the parameter path is part of the contract with the task definitions and the pipeline roles' denials"
  }
  assert {
    condition     = output.aviationstack_key_parameter_arn == "arn:aws:ssm:us-east-1:123456789012:parameter/flightdelay-test/aviationstack/access-key"
    error_message = "the task definitions reference the parameter by its ARN, built from its name"
  }
  assert {
    # The only parameter this module manages is the image tag: a managed SecureString would be read
    # back into the state at every refresh, ignore_changes or not.
    condition     = aws_ssm_parameter.image_tag.type == "String"
    error_message = "the image tag is the only (non-secret) parameter Terraform manages"
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation && output.kms_key_alias == "alias/flightdelay-test-secrets"
    error_message = "the key is put under a rotating CMK, named by its alias"
  }
}

run "the_image_tag_lives_where_the_deploy_workflow_writes_it" {
  command = plan
  assert {
    condition     = aws_ssm_parameter.image_tag.name == "/flightdelay-test/image-tag" && aws_ssm_parameter.image_tag.value == "bootstrap"
    error_message = "the image tag parameter starts at the bootstrap tag, at the path deploy.yml writes"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.dockerhub) == 0
    error_message = "no Docker Hub secret unless asked"
  }
}
