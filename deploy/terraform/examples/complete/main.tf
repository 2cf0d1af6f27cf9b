# One role for both deployment examples: the ECS task definitions in
# deploy/ecs and the service account in deploy/kubernetes.
#
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

locals {
  # aws eks describe-cluster --name shop --query cluster.identity.oidc.issuer
  oidc_issuer       = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  oidc_provider_arn = "arn:aws:iam::111122223333:oidc-provider/${local.oidc_issuer}"
}

module "envwrap_shop_api" {
  source = "../.."

  name = "envwrap-shop-api"

  # aws-sm://prod/shop/db in the manifests.
  secret_arns = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/shop/db-??????"]
  # ssm:///prod/shop/api/ in the manifests.
  parameter_paths = ["/prod/shop/api"]
  kms_key_arns    = ["arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]

  ecs_tasks             = true
  eks_oidc_provider_arn = local.oidc_provider_arn
  eks_service_accounts  = ["shop:api"]

  tags = {
    app = "shop-api"
  }
}

output "role_arn" {
  value = module.envwrap_shop_api.role_arn
}

output "access_policy_json" {
  value = module.envwrap_shop_api.access_policy_json
}
