# An IAM role for envwrap, trusted by ECS tasks and/or EKS service accounts
# (IRSA), allowed to read the named secrets and parameters and nothing else.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  dns_suffix = data.aws_partition.current.dns_suffix
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  ssm_arn    = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter"

  # A parameter's ARN drops the leading slash of its name: /a/b is
  # ...:parameter/a/b, and a name without a slash, c, is ...:parameter/c.
  parameter_arns = [for n in var.parameter_names : "${local.ssm_arn}/${trimprefix(n, "/")}"]

  # GetParametersByPath is authorized against the path in the request, not
  # the parameters it returns: grant the path itself (with and without the
  # trailing slash a manifest sends) and, for GetParameters, its children.
  paths         = [for p in var.parameter_paths : trimsuffix(trimprefix(p, "/"), "/")]
  path_arns     = [for p in local.paths : "${local.ssm_arn}/${p}"]
  path_children = [for p in local.paths : "${local.ssm_arn}/${p}/*"]

  # oidc.eks.REGION.amazonaws.com/id/ID, the prefix of IRSA's condition keys.
  oidc_provider = coalesce(var.eks_oidc_provider_arn, "oidc-provider/none")
  oidc_issuer   = split("oidc-provider/", local.oidc_provider)[1]
}

data "aws_iam_policy_document" "trust" {
  dynamic "statement" {
    for_each = var.ecs_tasks ? [1] : []
    content {
      sid     = "EcsTasks"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "Service"
        identifiers = ["ecs-tasks.amazonaws.com"]
      }
      # Only tasks of this account and region: guards against the confused
      # deputy problem.
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.eks_oidc_provider_arn == null ? [] : [1]
    content {
      sid     = "EksServiceAccounts"
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [var.eks_oidc_provider_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:sub"
        values   = [for s in var.eks_service_accounts : "system:serviceaccount:${s}"]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
}

data "aws_iam_policy_document" "access" {
  # DescribeSecret gives the version ids that tell envwrap whether a secret
  # changed before it fetches the value again.
  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadNamedSecrets"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = var.secret_arns
    }
  }

  # BatchGetSecretValue supports no resource-level permissions: the Service
  # Authorization Reference lists no resource type for it, so its Resource
  # must be "*". That grants no secret by itself: Secrets Manager also
  # requires secretsmanager:GetSecretValue on every secret in the batch,
  # which the statement above limits to secret_arns. envwrap names secrets
  # by id, never by filter, so secretsmanager:ListSecrets is not needed.
  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      sid       = "BatchGetHasNoResourceScope"
      actions   = ["secretsmanager:BatchGetSecretValue"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.parameter_arns) + length(local.path_children) > 0 ? [1] : []
    content {
      sid       = "ReadParameters"
      actions   = ["ssm:GetParameters"]
      resources = concat(local.parameter_arns, local.path_children)
    }
  }

  dynamic "statement" {
    for_each = length(local.paths) > 0 ? [1] : []
    content {
      sid       = "ReadParameterPaths"
      actions   = ["ssm:GetParametersByPath"]
      resources = concat(local.path_arns, local.path_children)
    }
  }

  # Decrypt only on behalf of Secrets Manager or Parameter Store in this
  # region: the role cannot use the keys directly.
  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptViaSecretsManagerAndSsm"
      actions   = ["kms:Decrypt"]
      resources = var.kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values = [
          "secretsmanager.${local.region}.${local.dns_suffix}",
          "ssm.${local.region}.${local.dns_suffix}",
        ]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  description        = "envwrap: reads the secrets and parameters its manifests name"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.ecs_tasks || var.eks_oidc_provider_arn != null
      error_message = "Nobody could assume the role: set ecs_tasks, eks_oidc_provider_arn, or both."
    }
    precondition {
      condition     = var.eks_oidc_provider_arn == null || length(var.eks_service_accounts) > 0
      error_message = "eks_oidc_provider_arn needs eks_service_accounts: who may assume the role."
    }
  }
}

resource "aws_iam_role_policy" "access" {
  name   = "${var.name}-read-secrets"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.access.json

  lifecycle {
    precondition {
      condition     = length(concat(var.secret_arns, var.parameter_names, var.parameter_paths)) > 0
      error_message = "Empty policy: give secret_arns, parameter_names or parameter_paths."
    }
  }
}
