mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c"] }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name        = "flightdelay-test"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/test"
}

run "one_nat_gateway_by_default" {
  command = plan
  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_subnet.private) == 2 && length(aws_subnet.public) == 2
    error_message = "defaults: 2 zones, 2 public + 2 private subnets, 1 NAT gateway"
  }
  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.service_name == "com.amazonaws.us-east-1.s3"
    error_message = "an S3 gateway endpoint must serve the private subnets"
  }
}

run "one_nat_gateway_per_zone_on_request" {
  command = plan
  variables {
    nat_gateway_mode = "per_az"
    az_count         = 3
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3
    error_message = "per_az must create a NAT gateway in every zone"
  }
}

run "the_flow_log_role_carries_the_boundary_it_is_given" {
  command = plan
  variables {
    permissions_boundary = "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test"
  }
  assert {
    condition     = aws_iam_role.flow.permissions_boundary == "arn:aws:iam::123456789012:policy/flightdelay-permissions-boundary-test"
    error_message = "the flow-log role carries the environment's permissions boundary"
  }
}
