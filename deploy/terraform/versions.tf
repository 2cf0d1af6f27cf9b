terraform {
  # 1.5 for startswith(), preconditions and the rest used here.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.0 for data.aws_region's `region` attribute, which replaced `name`.
      version = ">= 6.0"
    }
  }
}
