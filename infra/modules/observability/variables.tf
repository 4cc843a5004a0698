variable "name_prefix" {
  type        = string
  description = "Prefix of log groups, alarms and the dashboard, e.g. \"flightdelay-dev\"."
}

variable "services" {
  type        = list(string)
  description = "Services that get a log group."
  default     = ["api", "fetcher", "conditions", "evaluator", "training"]
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the service log groups."
  default     = 90
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts."
  }
}

variable "alarm_email" {
  type        = string
  description = "Address subscribed to the alarm topic (confirm the subscription mail); null for none."
  default     = null
}

variable "alb" {
  type = object({
    arn_suffix              = string
    target_group_arn_suffix = string
  })
  description = "The API's load balancer and target group (from the api-service module); null before it exists."
  default     = null
}

variable "thresholds" {
  type = object({
    alb_5xx_per_5min      = optional(number, 5)
    target_p99_seconds    = optional(number, 1)
    fetch_freshness_hours = optional(number, 26)
    live_min_roc_auc      = optional(number, 0.6) # the evaluator's bar (FLIGHTDELAY_EVAL_MIN_ROC_AUC)
  })
  description = "Alarm thresholds."
  default     = {}
}

variable "dead_letter_queue_names" {
  type        = map(string)
  description = "Scheduled task → its dead-letter queue name; any message there is a failed run."
  default     = {}
}

variable "cluster_name" {
  type        = string
  description = "ECS cluster name, for the dashboard."
}

variable "cluster_arn" {
  type        = string
  description = "ECS cluster ARN: a task of this cluster that fails to start, or a scheduled one that fails, alarms."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "api_service_name" {
  type        = string
  description = "ECS service of the API, for the dashboard's CPU and memory (null before it exists)."
  default     = null
}

variable "task_families" {
  type        = map(string)
  description = "Scheduled task → task family; a failing exit code of any of them alarms (a task that fails to start alarms whatever its family)."
  default     = {}
}

variable "success_exit_codes" {
  type        = list(number)
  description = "Exit codes of the scheduled tasks that are not failures (0; the evaluator's verdicts 10, 11, 12)."
  default     = [0, 10, 11, 12]
}
