mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix = "flightdelay-test"
}

run "the_key_is_a_securestring_under_a_rotating_key" {
  command = plan
  assert {
    condition     = aws_ssm_parameter.aviationstack_key.type == "SecureString" && aws_kms_key.this.enable_key_rotation
    error_message = "the API key must be a SecureString under a rotating CMK"
  }
  assert {
    condition     = aws_ssm_parameter.aviationstack_key.name == "/flightdelay-test/aviationstack/access-key"
    error_message = "the parameter path is part of the contract with the task definitions"
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
