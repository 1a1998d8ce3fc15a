# The real provider renders the IAM policy documents offline; only the lookups that would call AWS
# are overridden. Run: terraform init -backend=false && terraform test
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAEXAMPLEEXAMPLE00"
  secret_key                  = "not-used"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
provider "aws" {
  alias                       = "data"
  region                      = "eu-west-1"
  access_key                  = "AKIAEXAMPLEEXAMPLE00"
  secret_key                  = "not-used"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_resource {
  target          = aws_ssoadmin_permission_set.s3_access
  override_during = plan
  values          = { arn = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef" }
}
override_resource {
  target          = aws_iam_role.keyturn
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/keyturn-identity-center" }
}
override_data {
  override_during = plan
  target          = data.aws_caller_identity.identity_center
  values          = { account_id = "111122223333" }
}
override_data {
  override_during = plan
  target          = data.aws_caller_identity.data
  values          = { account_id = "444455556666" }
}
override_data {
  override_during = plan
  target          = data.aws_ssoadmin_instances.this
  values = {
    arns               = ["arn:aws:sso:::instance/ssoins-0123456789abcdef"]
    identity_store_ids = ["d-0123456789"]
  }
}

variables {
  bucket_name                    = "example-keyturn-data"
  keyturn_trusted_principal_arns = ["arn:aws:iam::111122223333:role/keyturn-runtime"]
  policy_file                    = "tests/policy.json"
}

run "keyturn_gets_only_the_actions_it_calls" {
  command = plan

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.keyturn_identity_center.policy).Statement : s.Action])) == toset([
      "sso:CreateAccountAssignment", "sso:DeleteAccountAssignment",
      "sso:DescribeAccountAssignmentCreationStatus", "sso:DescribeAccountAssignmentDeletionStatus",
      "sso:ListAccountAssignmentCreationStatus",
      "sso:ListAccountAssignments", "sso:ListPermissionSets", "sso:DescribePermissionSet", "sso:ListInstances",
      "identitystore:GetUserId", "identitystore:DescribeUser", "sts:AssumeRole",
    ])
    error_message = "Keyturn's Identity Center policy has other actions than the ones it calls"
  }
  assert {
    condition = toset(jsondecode(data.aws_iam_policy_document.keyturn_s3.json).Statement[0].Action) == toset([
      "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetEncryptionConfiguration",
    ])
    error_message = "Keyturn's S3 policy has other actions than the ones it calls"
  }
  assert {
    condition     = jsondecode(data.aws_iam_policy_document.keyturn_s3.json).Statement[0].Resource == "arn:aws:s3:::example-keyturn-data"
    error_message = "Keyturn's S3 policy reaches beyond the protected bucket"
  }
  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.keyturn_identity_center.policy).Statement[0].Resource, "arn:aws:sso:::account/444455556666")
    error_message = "assignments are limited to the data account"
  }
}

run "the_management_account_permissions_are_opt_in" {
  command = plan
  variables {
    assignments_in_management_account = true
  }
  assert {
    condition     = contains(flatten([for s in jsondecode(aws_iam_role_policy.keyturn_identity_center.policy).Statement : s.Action]), "iam:CreateRole")
    error_message = "the management-account statement is missing"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.keyturn_identity_center.policy).Statement : s.Resource if s.Sid == "ProvisionSsoRolesInTheManagementAccount"]) == ["arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*"]
    error_message = "the IAM actions must stay on the Identity Center role path"
  }
}

run "the_data_role_uses_the_key_only_through_s3" {
  command = plan
  assert {
    condition     = one([for s in jsondecode(data.aws_iam_policy_document.kms.json).Statement : s.Condition.StringEquals["kms:ViaService"] if s.Sid == "DataRoleUsesTheKeyThroughS3"]) == "s3.eu-west-1.amazonaws.com"
    error_message = "kms:ViaService"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.data.policy).Statement[0].Sid == "AllowRestrictedAdministerResource"
    error_message = "the bucket policy is the generated one"
  }
}

run "refuses_to_plan_without_the_policy_file" {
  command = plan
  variables {
    policy_file = "tests/missing.json"
  }
  expect_failures = [aws_s3_bucket_policy.data]
}
