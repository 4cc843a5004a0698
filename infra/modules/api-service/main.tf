# The API on Fargate behind a public ALB. Who owns what:
# - Terraform owns the service, the ALB, and the task definition's shape (env, sizes, roles);
# - the deploy workflow owns the running image: it registers new task definition revisions and
#   points the service at them, so the service ignores task_definition changes made elsewhere
#   (and desired_count, which autoscaling owns).
data "aws_region" "current" {}

locals {
  https = var.certificate_arn != null
  container = {
    name                   = "api"
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001"
    portMappings           = [{ containerPort = 8000, protocol = "tcp" }]
    environment = [
      { name = "FLIGHTDELAY_MODELS_URL", value = var.models_url },
      { name = "FLIGHTDELAY_DATA_URL", value = var.data_url },
      { name = "FLIGHTDELAY_AWS_REGION", value = data.aws_region.current.name },
      { name = "FLIGHTDELAY_API_HOST", value = "0.0.0.0" },
      { name = "FLIGHTDELAY_API_PORT", value = "8000" },
      { name = "FLIGHTDELAY_API_WORKERS", value = tostring(var.task.workers) },
    ]
    healthCheck = {
      command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = var.log_group_name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "api"
      }
    }
    repositoryCredentials = var.repository_credentials_arn == null ? null : { credentialsParameter = var.repository_credentials_arn }
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task.cpu
  memory                   = var.task.memory
  execution_role_arn       = var.roles.task_exec_arn
  task_role_arn            = var.roles.task_arn
  container_definitions    = jsonencode([{ for k, v in local.container : k => v if v != null }])
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  tags = var.tags
}

# --- load balancer ----------------------------------------------------------------------------
resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "Public HTTP(S) to the API load balancer"
  vpc_id      = var.network.vpc_id
  tags        = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  # checkov:skip=CKV_AWS_260:A public API: the internet reaches the load balancer (only), on 80 and 443.
  for_each          = toset(local.https ? ["80", "443"] : ["80"])
  security_group_id = aws_security_group.alb.id
  description       = "HTTP(S) from the internet"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the API tasks"
  referenced_security_group_id = aws_security_group.task.id
  from_port                    = 8000
  to_port                      = 8000
  ip_protocol                  = "tcp"
}

resource "aws_lb" "this" {
  # checkov:skip=CKV2_AWS_28:A WAF is an account-level choice (cost, rules); attach one to this ALB where needed.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.network.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.enable_deletion_protection
  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb"
    enabled = true
  }
  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  # checkov:skip=CKV_AWS_378:TLS ends at the load balancer; ALB to task is HTTP inside the VPC's private subnets.
  name                 = var.name
  port                 = 8000
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.network.vpc_id
  deregistration_delay = 30
  # Liveness, not readiness: a first deployment has no model yet, and /ready would answer 503 until
  # the first promotion, so the circuit breaker would fail the deployment. The API reports readiness
  # in /health's body and in the flightdelay_model_ready metric instead (infra/README.md).
  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
  tags = var.tags
}

resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2:Without a certificate the ALB can only serve HTTP; with certificate_arn this listener redirects to HTTPS.
  # checkov:skip=CKV_AWS_103:TLS applies to the HTTPS listener; this one serves HTTP only when no certificate is given.
  # checkov:skip=CKV2_AWS_20:The redirect to HTTPS is made whenever a certificate is given (dynamic below).
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn
    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
  tags = var.tags
}

# A failed check is a warning at plan and apply, never an error: a first prod apply without a
# certificate still works, and says so (https://developer.hashicorp.com/terraform/language/checks).
check "https_listener" {
  assert {
    condition     = !var.enable_http_warning || local.https
    error_message = "${var.name} serves plain HTTP: no certificate_arn is set, so requests and answers cross the internet unencrypted. Set certificate_arn (an ACM certificate for the API's domain) to serve HTTPS and redirect HTTP to it."
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
  tags = var.tags
}

# --- service ------------------------------------------------------------------------------------
resource "aws_security_group" "task" {
  name_prefix = "${var.name}-task-"
  description = "API tasks: from the load balancer in, HTTPS out (S3 via the gateway endpoint)"
  vpc_id      = var.network.vpc_id
  tags        = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "task_from_alb" {
  security_group_id            = aws_security_group.task.id
  description                  = "From the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  from_port                    = 8000
  to_port                      = 8000
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "task_https" {
  security_group_id = aws_security_group.task.id
  description       = "HTTPS to AWS APIs (S3, ECR, CloudWatch)"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_ecs_service" "this" {
  name                              = var.name
  cluster                           = var.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.task.desired_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60
  propagate_tags                    = "SERVICE"

  network_configuration {
    subnets          = var.network.private_subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = "api"
    container_port   = 8000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [task_definition, desired_count] # the deploy workflow and autoscaling own these
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.https] # the target group is in use by both
  tags       = var.tags
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${element(split("/", var.cluster_arn), length(split("/", var.cluster_arn)) - 1)}/${aws_ecs_service.this.name}"
  min_capacity       = var.task.min_count
  max_capacity       = var.task.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.cpu_percent
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.requests_per_target
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}"
    }
  }
}
