output "bucket_name" {
  value = aws_s3_bucket.data.id
}

output "kms_key_arn" {
  value = aws_kms_key.data.arn
}

output "permission_set_arn" {
  value = aws_ssoadmin_permission_set.s3_access.arn
}

output "keyturn_role_arn" {
  description = "Keyturn's Identity Center role: the credentials of its worker (and API) for sso-admin and identitystore."
  value       = aws_iam_role.keyturn.arn
}

output "keyturn_s3_role_arn" {
  description = "Keyturn's data-account role for GetBucketPolicy/PutBucketPolicy. The bucket spec must list it under administer-resource and read-config."
  value       = aws_iam_role.keyturn_s3.arn
}

output "s3_access_role_patterns" {
  description = "How the bucket policy and the key policy name the permission set's role, whatever its suffix."
  value       = local.s3_access_role_patterns
}

output "bucket_spec" {
  description = "A starting bucket spec for Keyturn (PUT /v1/buckets/<name> without the bucket field, or the CLI's generate --spec). Add your administrators."
  value = jsonencode({
    bucket    = var.bucket_name
    accountId = local.data_account_id
    capabilities = {
      "administer-resource" = [{ roleArn = aws_iam_role.keyturn_s3.arn }]
      "read-config"         = [{ roleArn = aws_iam_role.keyturn_s3.arn }]
      "read-data"           = [{ permissionSet = var.permission_set_name }]
      "write-data"          = [{ permissionSet = var.permission_set_name }]
      "delete-data"         = [{ permissionSet = var.permission_set_name }]
    }
  })
}
