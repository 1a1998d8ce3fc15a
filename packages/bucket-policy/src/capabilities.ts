// k9's capability model for S3 (k9securityio/terraform-aws-s3-bucket k9policy/*.tsv, v0.7.3, which
// agree with k9-cdk's capability_summary.json). The lists are kept sorted: the generator emits them
// as they are, so their order is part of the policy's canonical form.

export const CAPABILITIES = [
  "administer-resource",
  "read-config",
  "read-data",
  "write-data",
  "delete-data",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** The capabilities whose actions touch object data and so get a deny for everyone not listed. */
export const DATA_CAPABILITIES = ["read-data", "write-data", "delete-data"] as const;
export type DataCapability = (typeof DATA_CAPABILITIES)[number];

const s3 = (names: readonly string[]): readonly string[] => names.map((name) => `s3:${name}`);

export const CAPABILITY_ACTIONS: Readonly<Record<Capability, readonly string[]>> = {
  "administer-resource": s3([
    "DeleteBucket",
    "DeleteBucketPolicy",
    "DeleteBucketWebsite",
    "ObjectOwnerOverrideToBucketOwner",
    "PutAccelerateConfiguration",
    "PutAnalyticsConfiguration",
    "PutBucketAcl",
    "PutBucketCORS",
    "PutBucketLogging",
    "PutBucketNotification",
    "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration",
    "PutLifecycleConfiguration",
    "PutMetricsConfiguration",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectVersionAcl",
    "PutReplicationConfiguration",
  ]),
  "read-config": s3([
    "GetAccelerateConfiguration",
    "GetAnalyticsConfiguration",
    "GetBucketAcl",
    "GetBucketCORS",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketNotification",
    "GetBucketObjectLockConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration",
    "GetLifecycleConfiguration",
    "GetMetricsConfiguration",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectVersionAcl",
    "GetObjectVersionAttributes",
    "GetObjectVersionTagging",
    "GetReplicationConfiguration",
    "ListBucketMultipartUploads",
    "ListBucketVersions",
    "ListMultipartUploadParts",
  ]),
  "read-data": s3([
    "GetObject",
    "GetObjectTorrent",
    "GetObjectVersion",
    "GetObjectVersionForReplication",
    "GetObjectVersionTorrent",
    "ListBucket",
  ]),
  "write-data": s3([
    "AbortMultipartUpload",
    "InitiateReplication",
    "PutBucketTagging",
    "PutObject",
    "PutObjectTagging",
    "PutObjectVersionTagging",
    "ReplicateDelete",
    "ReplicateObject",
    "ReplicateTags",
    "RestoreObject",
  ]),
  "delete-data": s3([
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjectVersion",
    "DeleteObjectVersionTagging",
  ]),
};

/**
 * The actions a data capability's deny covers. k9 lists s3:PutBucketTagging under both write-data
 * and administer-resource; bucket tags are configuration, not data, so the write-data deny leaves
 * it out, or it would take that action away from administrators who are not writers.
 */
export function dataDenyActions(capability: DataCapability): readonly string[] {
  const administer = new Set(CAPABILITY_ACTIONS["administer-resource"]);
  return CAPABILITY_ACTIONS[capability].filter((action) => !administer.has(action));
}

/** k9 scopes delete-data to objects only; every other capability covers the bucket and its objects. */
export function capabilityCoversBucket(capability: Capability): boolean {
  return capability !== "delete-data";
}

// Actions that S3 authorizes against an object ARN (bucket/key); all others name the bucket ARN.
// Used to probe a policy with the resource each action is actually checked against.
const OBJECT_LEVEL = new Set(
  s3([
    "AbortMultipartUpload",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjectVersion",
    "DeleteObjectVersionTagging",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetObjectVersion",
    "GetObjectVersionAcl",
    "GetObjectVersionAttributes",
    "GetObjectVersionForReplication",
    "GetObjectVersionTagging",
    "GetObjectVersionTorrent",
    "InitiateReplication",
    "ListMultipartUploadParts",
    "ObjectOwnerOverrideToBucketOwner",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutObjectVersionAcl",
    "PutObjectVersionTagging",
    "ReplicateDelete",
    "ReplicateObject",
    "ReplicateTags",
    "RestoreObject",
  ]),
);

export function isObjectLevelAction(action: string): boolean {
  return OBJECT_LEVEL.has(action);
}

/** The Sids the generator owns. Statements with any other Sid (or none) belong to someone else. */
export const ALLOW_SIDS: Readonly<Record<Capability, string>> = {
  "administer-resource": "AllowRestrictedAdministerResource",
  "read-config": "AllowRestrictedReadConfig",
  "read-data": "AllowRestrictedReadData",
  "write-data": "AllowRestrictedWriteData",
  "delete-data": "AllowRestrictedDeleteData",
};
export const DATA_DENY_SIDS: Readonly<Record<DataCapability, string>> = {
  "read-data": "DenyReadDataToOthers",
  "write-data": "DenyWriteDataToOthers",
  "delete-data": "DenyDeleteDataToOthers",
};
export const DENY_EVERYONE_ELSE_SID = "DenyEveryoneElse";
export const DENY_INSECURE_SID = "DenyInsecureCommunications";
/**
 * k9's deny of uploads without an encryption header. No longer generated: UploadPart never
 * carries the header, so it refused every multipart upload. Still owned, so that an apply removes
 * it from a policy an earlier version wrote.
 */
export const DENY_UNENCRYPTED_SID = "DenyUnencryptedStorage";
export const DENY_NOT_KMS_SID = "DenyStorageWithoutKMSEncryption";
export const DENY_UNEXPECTED_KMS_KEY_SID = "DenyUnexpectedKMSKey";
export const DENY_KMS_WITHOUT_KEY_SID = "DenyKMSWithoutPinnedKey";
/** The prefix of the cut-off statements' Sids: `DenyEndedSessions1`, `DenyEndedSessions2`, ... */
export const DENY_ENDED_SESSIONS_SID = "DenyEndedSessions";

/** Every fixed Sid the generator can emit, in the order it emits them (then the cut-offs'). */
export const OWNED_SIDS: readonly string[] = [
  ...CAPABILITIES.map((capability) => ALLOW_SIDS[capability]),
  DENY_EVERYONE_ELSE_SID,
  DENY_INSECURE_SID,
  DENY_UNENCRYPTED_SID,
  DENY_NOT_KMS_SID,
  DENY_UNEXPECTED_KMS_KEY_SID,
  DENY_KMS_WITHOUT_KEY_SID,
  ...DATA_CAPABILITIES.map((capability) => DATA_DENY_SIDS[capability]),
];

const OWNED = new Set(OWNED_SIDS);

// The bare prefix is what Keyturn wrote before cut-offs were per set: still Keyturn's, so an
// apply replaces it.
const CUTOFF_SID = new RegExp(`^${DENY_ENDED_SESSIONS_SID}\\d*$`);

export function isOwnedSid(sid: string | undefined): boolean {
  return sid !== undefined && (OWNED.has(sid) || CUTOFF_SID.test(sid));
}
