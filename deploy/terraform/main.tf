# Keyturn's AWS side, as an example: the S3Access permission set, a KMS-encrypted bucket whose
# policy Keyturn generates, and the two roles Keyturn runs as, each with only the actions it calls.
# README.md explains every resource and permission, and the order to apply things in.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40.0, < 6.0.0"
    }
  }
}

# The account of the IAM Identity Center instance (the management account, or a delegated
# administrator): the permission set and Keyturn's Identity Center role live here.
provider "aws" {
  region = var.region
}

# The account that owns the data: the bucket, its key and Keyturn's S3 role.
provider "aws" {
  alias  = "data"
  region = var.region

  dynamic "assume_role" {
    for_each = var.data_account_role_arn == null ? [] : [var.data_account_role_arn]
    content {
      role_arn = assume_role.value
    }
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "identity_center" {}
data "aws_caller_identity" "data" {
  provider = aws.data
}
data "aws_ssoadmin_instances" "this" {}

locals {
  partition           = data.aws_partition.current.partition
  identity_center_id  = data.aws_caller_identity.identity_center.account_id
  data_account_id     = data.aws_caller_identity.data.account_id
  instance_arn        = tolist(data.aws_ssoadmin_instances.this.arns)[0]
  identity_store_id   = tolist(data.aws_ssoadmin_instances.this.identity_store_ids)[0]
  bucket_arn          = "arn:${local.partition}:s3:::${var.bucket_name}"
  keyturn_s3_role_arn = "arn:${local.partition}:iam::${local.data_account_id}:role/${var.keyturn_s3_role_name}"
  # The permission set's role in the data account, whatever its random suffix and in both path
  # forms (Identity Center in us-east-1 leaves the region segment out). The same patterns as
  # Keyturn's generator (packages/bucket-policy/src/spec.ts), for the KMS key policy below.
  sso_role_base = "arn:${local.partition}:iam::${local.data_account_id}:role/aws-reserved/sso.amazonaws.com"
  s3_access_role_patterns = [
    "${local.sso_role_base}/AWSReservedSSO_${var.permission_set_name}_????????????????",
    "${local.sso_role_base}/*/AWSReservedSSO_${var.permission_set_name}_????????????????",
  ]
  policy_path = "${path.module}/${var.policy_file}"
}

# ---- the permission set ----------------------------------------------------------------------

resource "aws_ssoadmin_permission_set" "s3_access" {
  name             = var.permission_set_name
  description      = "Just-in-time data access granted by Keyturn; the data itself is reached through the bucket policy only."
  instance_arn     = local.instance_arn
  session_duration = var.session_duration
}

# Look, do not touch: everything else the role may do comes from the bucket policy, which lets
# this set (and only it) read and write the data.
resource "aws_ssoadmin_managed_policy_attachment" "view_only" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.s3_access.arn
  managed_policy_arn = "arn:${local.partition}:iam::aws:policy/job-function/ViewOnlyAccess"
}

# ---- the bucket ------------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  statement {
    sid       = "AccountRootControlsTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.data_account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_admin_role_arns) == 0 ? [] : [var.kms_admin_role_arns]
    content {
      sid = "KeyAdministration"
      actions = [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
        "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
      ]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }

  # ViewOnlyAccess grants no kms:Decrypt, so the data role gets the key here, through S3 only
  # (k9-cdk maps read-data to Decrypt and write-data to Encrypt/GenerateDataKey*).
  statement {
    sid       = "DataRoleUsesTheKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:PrincipalArn"
      values   = local.s3_access_role_patterns
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.data_account_id]
    }
  }
}

resource "aws_kms_key" "data" {
  provider                = aws.data
  description             = "SSE-KMS key of ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "data" {
  provider      = aws.data
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_s3_bucket" "data" {
  provider = aws.data
  bucket   = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "data" {
  provider                = aws.data
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# No ACLs: the bucket owner owns every object, so only the bucket policy decides access.
resource "aws_s3_bucket_ownership_controls" "data" {
  provider = aws.data
  bucket   = aws_s3_bucket.data.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  provider = aws.data
  bucket   = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    # One data key per bucket for a while instead of a KMS call per object.
    bucket_key_enabled = true
  }
}

# The policy Keyturn's CLI generated from the bucket spec (README.md, "Generate the policy").
# Terraform puts it once; from then on Keyturn owns it: it re-applies it with session cut-offs and
# reports drift, so Terraform must not revert its changes.
resource "aws_s3_bucket_policy" "data" {
  provider = aws.data
  bucket   = aws_s3_bucket.data.id
  policy   = fileexists(local.policy_path) ? file(local.policy_path) : "{}"

  lifecycle {
    ignore_changes = [policy]
    precondition {
      condition     = fileexists(local.policy_path)
      error_message = "Generate ${var.policy_file} first: pnpm --filter @keyturn/api run bucket-policy -- generate --spec $PWD/spec.json > deploy/terraform/${var.policy_file} (see README.md)."
    }
  }

  # Block Public Access first, so that no instant exists where a policy could make it public,
  # and the key and the role the policy names before it.
  depends_on = [
    aws_s3_bucket_public_access_block.data,
    aws_s3_bucket_ownership_controls.data,
    aws_iam_role.keyturn_s3,
  ]
}

# ---- Keyturn's role in the Identity Center account -----------------------------------------

data "aws_iam_policy_document" "keyturn_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.keyturn_trusted_principal_arns
    }
  }
}

resource "aws_iam_role" "keyturn" {
  name                 = var.keyturn_role_name
  description          = "Keyturn: creates and removes IAM Identity Center account assignments of the permission sets it manages."
  assume_role_policy   = data.aws_iam_policy_document.keyturn_trust.json
  max_session_duration = 3600
}

locals {
  sso_account_arn = "arn:${local.partition}:sso:::account/${local.data_account_id}"

  keyturn_identity_center_statements = [
    {
      Sid      = "GrantAndRevokeTheManagedSetInTheDataAccount"
      Effect   = "Allow"
      Action   = ["sso:CreateAccountAssignment", "sso:DeleteAccountAssignment"]
      Resource = [local.instance_arn, aws_ssoadmin_permission_set.s3_access.arn, local.sso_account_arn]
    },
    {
      Sid      = "PollAssignmentRequests"
      Effect   = "Allow"
      # The List call finds a creation again after a crash between AWS accepting it and Keyturn
      # saving its request id.
      Action = [
        "sso:DescribeAccountAssignmentCreationStatus",
        "sso:DescribeAccountAssignmentDeletionStatus",
        "sso:ListAccountAssignmentCreationStatus",
      ]
      Resource = [local.instance_arn]
    },
    {
      # The reconciler's "is it there?": one principal's assignments in one account.
      Sid      = "LookUpOneAssignment"
      Effect   = "Allow"
      Action   = ["sso:ListAccountAssignmentsForPrincipal"]
      Resource = [local.instance_arn]
    },
    {
      Sid      = "ReadAssignmentsForDrift"
      Effect   = "Allow"
      Action   = ["sso:ListAccountAssignments"]
      Resource = [local.instance_arn, aws_ssoadmin_permission_set.s3_access.arn, local.sso_account_arn]
    },
    {
      # Keyturn knows sets by name: it lists them and describes each to find the one it needs,
      # so it reads all of them (names and session durations, nothing else).
      Sid      = "ResolvePermissionSetsByName"
      Effect   = "Allow"
      Action   = ["sso:ListPermissionSets", "sso:DescribePermissionSet"]
      Resource = [local.instance_arn, "arn:${local.partition}:sso:::permissionSet/*"]
    },
    {
      Sid      = "FindTheInstance"
      Effect   = "Allow"
      Action   = ["sso:ListInstances"]
      Resource = ["*"]
    },
    {
      Sid    = "ResolveUsersByEmail"
      Effect = "Allow"
      Action = ["identitystore:GetUserId", "identitystore:DescribeUser"]
      Resource = [
        "arn:${local.partition}:identitystore::${local.identity_center_id}:identitystore/${local.identity_store_id}",
        "arn:${local.partition}:identitystore:::user/*",
      ]
    },
    {
      Sid      = "UseTheDataAccountRole"
      Effect   = "Allow"
      Action   = ["sts:AssumeRole"]
      Resource = [local.keyturn_s3_role_arn]
    },
  ]

  # Only when the management account itself is a target: Identity Center then provisions the
  # AWSReservedSSO_ role there with the caller's own IAM permissions (reference section 2).
  management_account_statements = [
    {
      Sid    = "ProvisionSsoRolesInTheManagementAccount"
      Effect = "Allow"
      Action = [
        "iam:CreateRole", "iam:GetRole", "iam:UpdateRole", "iam:DeleteRole",
        "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
        "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
      ]
      Resource = ["arn:${local.partition}:iam::${local.identity_center_id}:role/aws-reserved/sso.amazonaws.com/*"]
    },
    {
      Sid      = "ReadTheSsoSamlProvider"
      Effect   = "Allow"
      Action   = ["iam:GetSAMLProvider"]
      Resource = ["arn:${local.partition}:iam::${local.identity_center_id}:saml-provider/AWSSSO_*"]
    },
  ]
}

resource "aws_iam_role_policy" "keyturn_identity_center" {
  name = "identity-center"
  role = aws_iam_role.keyturn.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      local.keyturn_identity_center_statements,
      var.assignments_in_management_account ? local.management_account_statements : [],
    )
  })
}

# ---- Keyturn's role in the data account --------------------------------------------------------

data "aws_iam_policy_document" "keyturn_s3_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type = "AWS"
      # The role's ARN, not the string: IAM refuses a trust policy naming a role that does not exist yet.
      identifiers = concat([aws_iam_role.keyturn.arn], var.keyturn_trusted_principal_arns)
    }
  }
}

resource "aws_iam_role" "keyturn_s3" {
  provider             = aws.data
  name                 = var.keyturn_s3_role_name
  description          = "Keyturn: reads and writes the policies of the buckets it protects."
  assume_role_policy   = data.aws_iam_policy_document.keyturn_s3_trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "keyturn_s3" {
  statement {
    sid       = "ManageTheProtectedBucketsPolicies"
    actions   = ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetEncryptionConfiguration"]
    resources = [local.bucket_arn]
  }
}

resource "aws_iam_role_policy" "keyturn_s3" {
  provider = aws.data
  name     = "bucket-policies"
  role     = aws_iam_role.keyturn_s3.id
  policy   = data.aws_iam_policy_document.keyturn_s3.json
}
