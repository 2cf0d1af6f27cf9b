variable "name" {
  description = "Name of the IAM role, and prefix of its inline policy."
  type        = string
}

variable "secret_arns" {
  description = <<-EOT
    Secrets Manager secrets envwrap may read, as ARNs. Secrets Manager adds
    six random characters to every secret's ARN; write them out, or end the
    ARN with "-??????" (not "*", which would also match prod/db2).
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.secret_arns : startswith(a, "arn:")])
    error_message = "Each entry of secret_arns must be an ARN: IAM matches ARNs, not names."
  }
}

variable "parameter_names" {
  description = "Single SSM parameters envwrap may read, by name, e.g. /prod/shop/api/token."
  type        = list(string)
  default     = []
}

variable "parameter_paths" {
  description = <<-EOT
    SSM parameter paths envwrap may read whole (ssm:///prod/shop/api/ in a
    manifest), e.g. /prod/shop/api. A path grants every parameter below it,
    sub-paths included.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.parameter_paths : startswith(p, "/") && p != "/"])
    error_message = "Each parameter path must start with / and must not be / itself."
  }
}

variable "kms_key_arns" {
  description = <<-EOT
    Customer managed KMS keys that encrypt those secrets and SecureString
    parameters. Leave empty for the AWS managed keys (aws/secretsmanager,
    aws/ssm), whose key policies already allow use through those services.
  EOT
  type        = list(string)
  default     = []
}

variable "ecs_tasks" {
  description = "Let ECS tasks of this account and region assume the role (taskRoleArn)."
  type        = bool
  default     = false
}

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider, for IRSA. null: no EKS trust."
  type        = string
  default     = null
}

variable "eks_service_accounts" {
  description = "Kubernetes service accounts that may assume the role, as \"namespace:name\"."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.eks_service_accounts : length(split(":", s)) == 2])
    error_message = "Each service account must be written namespace:name."
  }
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
