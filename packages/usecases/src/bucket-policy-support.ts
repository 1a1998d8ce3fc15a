import { createHash } from "node:crypto";
import { generateBucketPolicy, permissionSetsOf } from "@keyturn/bucket-policy";
import type {
  BucketPolicyError,
  BucketPolicyErrorCode,
  BucketPolicyResult,
  BucketPolicySpec,
  BucketSessionCutoff,
  CutoffLayout,
  GeneratedBucketPolicy,
  SessionCutoffRecord,
} from "./bucket-policy-ports.js";

// Shared by the bucket-policy use cases; not exported from the package.

export const failure = <T = never>(
  code: BucketPolicyErrorCode,
  message: string,
  details?: Record<string, unknown>,
): BucketPolicyResult<T> => ({
  ok: false,
  error: details === undefined ? { code, message } : { code, message, details },
});

export const bucketNotFound = <T = never>(name: string): BucketPolicyResult<T> =>
  failure("BUCKET_NOT_FOUND", `bucket '${name}' is not protected by Keyturn (PUT /v1/buckets/${name} first)`);

/** sha256 of a policy fingerprint: what lastAppliedHash and the drift check compare. */
export function policyHash(fingerprint: string | null): string | null {
  return fingerprint === null ? null : createHash("sha256").update(fingerprint, "utf8").digest("hex");
}

/** The cut-offs in force that concern this bucket: those of permission sets its spec names. */
export function cutoffsFor(
  spec: BucketPolicySpec,
  active: readonly SessionCutoffRecord[],
): BucketSessionCutoff[] {
  const sets = new Set(permissionSetsOf(spec).map((set) => `${set.accountId}/${set.name}`));
  return active
    .filter((cutoff) => sets.has(`${cutoff.accountId}/${cutoff.permissionSetName}`))
    .map((cutoff) => ({
      identityStoreUserId: cutoff.identityStoreUserId,
      accountId: cutoff.accountId,
      permissionSet: cutoff.permissionSetName,
      until: cutoff.until.toISOString(),
      ...(cutoff.issuedBefore === null ? {} : { issuedBefore: cutoff.issuedBefore.toISOString() }),
      ...(cutoff.closedAt === null ? {} : { closedAt: cutoff.closedAt.toISOString() }),
      ...(cutoff.startsAt === null ? {} : { from: cutoff.startsAt.toISOString() }),
    }));
}

/** Whether a cut-off's permission set is one the bucket's spec names. */
export function specNamesSet(
  spec: BucketPolicySpec,
  set: { accountId: string; permissionSetName: string },
): boolean {
  return permissionSetsOf(spec).some(
    (named) => named.accountId === set.accountId && named.name === set.permissionSetName,
  );
}

/**
 * The policy Keyturn wants on the bucket now: its spec plus the cut-offs in force, folded to
 * leave `reserveBytes` for the foreign statements an apply keeps.
 */
export function desiredPolicy(
  spec: BucketPolicySpec,
  cutoffs: readonly BucketSessionCutoff[],
  reserveBytes = 0,
): BucketPolicyResult<GeneratedBucketPolicy & { cutoffs: CutoffLayout }> {
  const { sessionCutoffs: _stored, ...rest } = spec;
  const generated = generateBucketPolicy(cutoffs.length === 0 ? rest : { ...rest, sessionCutoffs: cutoffs }, {
    reserveBytes,
  });
  if (generated.ok) {
    return generated;
  }
  return generated.error.code === "POLICY_TOO_LARGE"
    ? failure("POLICY_TOO_LARGE", generated.error.message, {
        size: generated.error.size,
        limit: generated.error.limit,
      })
    : failure("INVALID_BUCKET_SPEC", generated.error.message, { problems: generated.error.problems });
}

export function planFailure(error: { code: string; message: string }): BucketPolicyError {
  return {
    code: error.code === "POLICY_TOO_LARGE" ? "POLICY_TOO_LARGE" : "INVALID_LIVE_POLICY",
    message: error.message,
  };
}

/** What an audit event or a report says about a diff: Sids, not whole statements. */
export type DiffSummary = {
  added: string[];
  removed: string[];
  changed: string[];
  foreign: Array<string | null>;
  droppedForeign: Array<string | null>;
};

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

/**
 * Why the bucket's default encryption does not back the generated storage denies, or undefined
 * when it does. Those denies refuse only uploads that name another encryption (UploadPart names
 * none, so a deny of missing headers would break multipart uploads); an upload that names none
 * gets the bucket's default. So "nothing is stored without SSE-KMS" holds only while the default
 * is SSE-KMS, with the pinned key when the spec pins one.
 */
export function defaultEncryptionProblem(
  bucket: string,
  spec: BucketPolicySpec,
  encryption: { sseAlgorithm: string; kmsMasterKeyId?: string } | null,
): string | undefined {
  if (spec.kmsRequired === false) {
    return undefined;
  }
  const pinned = spec.kmsKeyArn;
  const kms = encryption !== null && KMS_ALGORITHMS.includes(encryption.sseAlgorithm);
  const configuredKey = encryption?.kmsMasterKeyId;
  const rightKey =
    pinned === undefined ||
    (configuredKey !== undefined && (configuredKey === pinned || pinned.endsWith(`:key/${configuredKey}`)));
  if (kms && rightKey) {
    return undefined;
  }
  const now =
    encryption === null
      ? "has no default encryption"
      : `encrypts new objects with ${encryption.sseAlgorithm}${kms ? ` under ${configuredKey ?? "the AWS managed key aws/s3"}` : ""} by default`;
  const wanted = pinned === undefined ? "SSE-KMS" : `SSE-KMS with ${pinned}`;
  const configuration = JSON.stringify({
    Rules: [
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: "aws:kms",
          ...(pinned === undefined ? {} : { KMSMasterKeyID: pinned }),
        },
        BucketKeyEnabled: true,
      },
    ],
  });
  return `bucket '${bucket}' ${now}, but Keyturn's policy refuses only uploads that name another encryption (multipart parts name none), so an upload that names none would not be ${wanted}. Set the bucket's default encryption first: aws s3api put-bucket-encryption --bucket ${bucket} --server-side-encryption-configuration '${configuration}' (or set kmsRequired: false in the spec)`;
}

/**
 * The bytes the foreign statements of a live policy add when kept (each statement's compact JSON
 * and a comma): what the cut-offs must leave free. The canonical text orders keys differently,
 * but its length is the same.
 */
export function foreignBytes(
  statements: ReadonlyArray<{ statement: Readonly<Record<string, unknown>> }>,
): number {
  return statements.reduce(
    (sum, { statement }) => sum + new TextEncoder().encode(JSON.stringify(statement)).length + 1,
    0,
  );
}
