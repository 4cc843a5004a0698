mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  name               = "fd-test-api"
  cluster_arn        = "arn:aws:ecs:us-east-1:123456789012:cluster/fd-test"
  network            = { vpc_id = "vpc-1", public_subnet_ids = ["subnet-a", "subnet-b"], private_subnet_ids = ["subnet-c", "subnet-d"] }
  image              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/flightdelay/api:bootstrap"
  roles              = { task_exec_arn = "arn:aws:iam::123456789012:role/exec", task_arn = "arn:aws:iam::123456789012:role/api" }
  models_url         = "s3://fd-models"
  data_url           = "s3://fd-data"
  log_group_name     = "/flightdelay/test/api"
  access_logs_bucket = "fd-logs"
}

run "health_check_is_liveness_and_tasks_stay_private" {
  command = plan
  assert {
    condition     = one(aws_lb_target_group.this.health_check).path == "/health"
    error_message = "the ALB checks liveness (/health), so a first deployment with no model yet is healthy"
  }
  assert {
    condition     = one(aws_ecs_service.this.network_configuration).assign_public_ip == false
    error_message = "tasks get no public IP"
  }
  assert {
    condition     = one(aws_ecs_service.this.deployment_circuit_breaker).rollback
    error_message = "a failed deployment must roll back"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].user == "10001" && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem
    error_message = "the container runs as a numeric non-root user with a read-only root filesystem"
  }
  assert {
    condition     = one(aws_lb_listener.http.default_action).type == "forward" && length(aws_lb_listener.https) == 0
    error_message = "without a certificate, HTTP forwards"
  }
}

run "with_a_certificate_http_redirects_to_https" {
  command = plan
  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
  }
  assert {
    condition     = one(aws_lb_listener.http.default_action).type == "redirect" && length(aws_lb_listener.https) == 1
    error_message = "with a certificate, HTTP redirects and HTTPS serves"
  }
}

run "an_environment_that_must_serve_https_warns_over_plain_http" {
  command = plan
  variables {
    enable_http_warning = true
  }
  expect_failures = [check.https_listener]
}

run "with_a_certificate_the_https_check_passes" {
  command = plan
  variables {
    enable_http_warning = true
    certificate_arn     = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
  }
  assert {
    condition     = length(aws_lb_listener.https) == 1
    error_message = "with a certificate, HTTPS serves (and the check holds: no expected failure here)"
  }
}
