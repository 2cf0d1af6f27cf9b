output "role_arn" {
  description = "ARN of the role: for taskRoleArn, or the eks.amazonaws.com/role-arn annotation."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the role."
  value       = aws_iam_role.this.name
}

output "access_policy_json" {
  description = "The role's inline policy, for review."
  value       = data.aws_iam_policy_document.access.json
}

output "trust_policy_json" {
  description = "The role's trust policy, for review."
  value       = data.aws_iam_policy_document.trust.json
}
