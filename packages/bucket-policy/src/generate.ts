import {
  type JsonPolicy,
  type JsonStatement,
  MAX_POLICY_BYTES,
  policyBytes,
  serializePolicy,
} from "./canonical.js";
import {
  ALLOW_SIDS,
  CAPABILITIES,
  CAPABILITY_ACTIONS,
  type Capability,
  capabilityCoversBucket,
  DATA_CAPABILITIES,
  DATA_DENY_SIDS,
  DENY_ENDED_SESSIONS_SID,
  DENY_EVERYONE_ELSE_SID,
  DENY_INSECURE_SID,
  DENY_KMS_WITHOUT_KEY_SID,
  DENY_NOT_KMS_SID,
  DENY_UNEXPECTED_KMS_KEY_SID,
  dataDenyActions,
} from "./capabilities.js";
import {
  type BucketSpec,
  compareText,
  parseBucketSpec,
  principalPatterns,
  type ResolvedPrincipal,
  resolvePrincipal,
  type SpecProblem,
} from "./spec.js";

export type PolicyTooLarge = { code: "POLICY_TOO_LARGE"; message: string; size: number; limit: number };
export type GenerateError =
  | { code: "INVALID_SPEC"; message: string; problems: SpecProblem[] }
  | PolicyTooLarge;
/** `json` is the canonical text (what PutBucketPolicy sends); `bytes` its UTF-8 size. */
export type GeneratedPolicy = { policy: JsonPolicy; json: string; bytes: number };
export type GenerateResult = { ok: true; value: GeneratedPolicy } | { ok: false; error: GenerateError };

const ANY_AWS_PRINCIPAL = { AWS: "*" } as const;

/**
 * The k9-style policy for a bucket (see ../../../../shared/reference/aws-and-k9.md, sections 1 and 7):
 *
 * 1. one Allow per capability that names principals, conditioned on `aws:PrincipalArn`;
 * 2. `DenyEveryoneElse` for every principal not named by any capability;
 * 3. `DenyInsecureCommunications`, and (unless `kmsRequired: false`) the storage denies of
 *    `storageDenies`;
 * 4. a deny of each data capability's actions to everyone not named for it, because in the same
 *    account an identity-policy Allow is enough: without these, an administrator listed only for
 *    administer-resource keeps the data through AdministratorAccess;
 * 5. `DenyEndedSessions` when there are cut-offs: Identity Center does not end live sessions when an
 *    assignment goes, so the ended users are refused by `identitystore:userId` until their
 *    sessions have run out. The statement also lapses by itself at the last cut-off's end, so a
 *    Keyturn that stopped running cannot lock anyone out for good.
 *
 * Pure and deterministic: the same spec, whatever the order of its lists, gives the same bytes.
 * A policy over S3's 20 KB limit is an error, never truncated.
 */
export function generateBucketPolicy(input: BucketSpec): GenerateResult {
  const parsed = parseBucketSpec(input);
  if (!parsed.ok) {
    return { ok: false, error: parsed.error };
  }
  const spec = parsed.spec;
  const bucketArn = `arn:aws:s3:::${spec.bucket}`;
  const objectsArn = `${bucketArn}/*`;
  const resourcesOf = (capability: Capability) =>
    capabilityCoversBucket(capability) ? [bucketArn, objectsArn] : [objectsArn];
  const holders = (capability: Capability): ResolvedPrincipal[] =>
    (spec.capabilities[capability] ?? []).map((ref) => resolvePrincipal(ref, spec.accountId));

  const statements: JsonStatement[] = [];
  for (const capability of CAPABILITIES) {
    const principals = holders(capability);
    if (principals.length > 0) {
      statements.push({
        Sid: ALLOW_SIDS[capability],
        Effect: "Allow",
        Principal: ANY_AWS_PRINCIPAL,
        Action: [...CAPABILITY_ACTIONS[capability]],
        Resource: resourcesOf(capability),
        Condition: principalCondition(principals, false),
      });
    }
  }
  const everyone = CAPABILITIES.flatMap(holders);
  statements.push({
    Sid: DENY_EVERYONE_ELSE_SID,
    Effect: "Deny",
    Principal: ANY_AWS_PRINCIPAL,
    Action: ["s3:*"],
    Resource: [bucketArn, objectsArn],
    Condition: principalCondition(everyone, true),
  });
  statements.push({
    Sid: DENY_INSECURE_SID,
    Effect: "Deny",
    Principal: ANY_AWS_PRINCIPAL,
    Action: ["s3:*"],
    Resource: [bucketArn, objectsArn],
    Condition: { Bool: { "aws:SecureTransport": ["false"] } },
  });
  if (spec.kmsRequired !== false) {
    statements.push(...storageDenies(objectsArn, spec.kmsKeyArn));
  }
  for (const capability of DATA_CAPABILITIES) {
    const principals = holders(capability);
    statements.push({
      Sid: DATA_DENY_SIDS[capability],
      Effect: "Deny",
      Principal: ANY_AWS_PRINCIPAL,
      Action: [...dataDenyActions(capability)],
      Resource: resourcesOf(capability),
      // Nobody holds the capability: deny it to all, rather than rely on an empty value list.
      ...(principals.length === 0 ? {} : { Condition: principalCondition(principals, true) }),
    });
  }
  const cutoffs = spec.sessionCutoffs ?? [];
  const lastUntil = cutoffs
    .map((cutoff) => cutoff.until)
    .sort(compareText)
    .at(-1);
  if (lastUntil !== undefined) {
    statements.push({
      Sid: DENY_ENDED_SESSIONS_SID,
      Effect: "Deny",
      Principal: ANY_AWS_PRINCIPAL,
      Action: ["s3:*"],
      Resource: [bucketArn, objectsArn],
      Condition: {
        DateLessThan: { "aws:CurrentTime": [lastUntil] },
        StringEquals: { "identitystore:userId": cutoffs.map((cutoff) => cutoff.identityStoreUserId) },
      },
    });
  }
  return finish({ Version: "2012-10-17", Statement: statements });
}

const SSE = "s3:x-amz-server-side-encryption";
const SSE_KEY_ID = "s3:x-amz-server-side-encryption-aws-kms-key-id";

/**
 * "Nothing is stored without SSE-KMS" without breaking multipart uploads. S3 authorizes
 * CreateMultipartUpload, UploadPart and CompleteMultipartUpload all as s3:PutObject, but only the
 * first (like PutObject) carries the encryption headers; a deny of uploads *without* the header,
 * as k9 writes it, therefore refuses every UploadPart. Since 2023 S3 encrypts every new object
 * with the bucket's default encryption, so these deny only a header that is present and wrong,
 * and the apply path checks that the default is SSE-KMS (with the pinned key, if any):
 *
 * - `DenyStorageWithoutKMSEncryption`: an encryption header other than aws:kms;
 * - with a pinned key, `DenyUnexpectedKMSKey`: a key id header other than the key's ARN (a
 *   writer cannot name a key of another account, or an alias S3 would resolve in theirs);
 * - with a pinned key, `DenyKMSWithoutPinnedKey`: aws:kms without a key id, which S3 answers by
 *   using the AWS managed key aws/s3 rather than the bucket default's (S3 API "PutObject").
 */
function storageDenies(objectsArn: string, kmsKeyArn: string | undefined): JsonStatement[] {
  const deny = (sid: string, condition: Record<string, unknown>): JsonStatement => ({
    Sid: sid,
    Effect: "Deny",
    Principal: ANY_AWS_PRINCIPAL,
    Action: ["s3:PutObject"],
    Resource: [objectsArn],
    Condition: condition,
  });
  const denies = [
    deny(DENY_NOT_KMS_SID, { Null: { [SSE]: ["false"] }, StringNotEquals: { [SSE]: ["aws:kms"] } }),
  ];
  if (kmsKeyArn !== undefined) {
    denies.push(
      deny(DENY_UNEXPECTED_KMS_KEY_SID, {
        Null: { [SSE_KEY_ID]: ["false"] },
        StringNotEquals: { [SSE_KEY_ID]: [kmsKeyArn] },
      }),
      deny(DENY_KMS_WITHOUT_KEY_SID, { Null: { [SSE]: ["false"], [SSE_KEY_ID]: ["true"] } }),
    );
  }
  return denies;
}

/** Serializes and enforces the size limit; shared with the merge, which adds foreign statements. */
export function finish(
  policy: JsonPolicy,
): { ok: true; value: GeneratedPolicy } | { ok: false; error: PolicyTooLarge } {
  const json = serializePolicy(policy);
  const bytes = policyBytes(json);
  if (bytes > MAX_POLICY_BYTES) {
    return {
      ok: false,
      error: {
        code: "POLICY_TOO_LARGE",
        message: `the bucket policy would be ${bytes} bytes; S3 accepts at most ${MAX_POLICY_BYTES}`,
        size: bytes,
        limit: MAX_POLICY_BYTES,
      },
    };
  }
  return { ok: true, value: { policy, json, bytes } };
}

/**
 * ArnEquals when every principal is an exact role, ArnLike as soon as one is a pattern (k9's rule:
 * one operator per statement, since two operators on one key would both have to hold).
 */
function principalCondition(principals: readonly ResolvedPrincipal[], negated: boolean) {
  const patterns = [...new Set(principals.flatMap(principalPatterns))].sort(compareText);
  const like = principals.some((principal) => principal.kind === "permission-set");
  const operator = `Arn${negated ? "Not" : ""}${like ? "Like" : "Equals"}`;
  return { [operator]: { "aws:PrincipalArn": patterns } };
}
