output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Subnets for the ALB."
  value       = [for s in aws_subnet.public : s.id]
}

output "private_subnet_ids" {
  description = "Subnets for the ECS tasks (egress through NAT, S3 through the gateway endpoint)."
  value       = [for s in aws_subnet.private : s.id]
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}
