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
  DENY_EVERYONE_ELSE_SID,
  DENY_INSECURE_SID,
  DENY_KMS_WITHOUT_KEY_SID,
  DENY_NOT_KMS_SID,
  DENY_UNEXPECTED_KMS_KEY_SID,
  dataDenyActions,
} from "./capabilities.js";
import {
  type CutoffFold,
  type CutoffLayout,
  cutoffStatements,
  groupCutoffs,
  nextFold,
} from "./session-cutoffs.js";
import {
  type BucketSpec,
  compareText,
  parseBucketSpec,
  permissionSetsOf,
  principalPatterns,
  type ResolvedPrincipal,
  resolvePrincipal,
  type SessionCutoff,
  type SpecProblem,
} from "./spec.js";

export type PolicyTooLarge = { code: "POLICY_TOO_LARGE"; message: string; size: number; limit: number };
export type GenerateError =
  | { code: "INVALID_SPEC"; message: string; problems: SpecProblem[] }
  | PolicyTooLarge;
/** `json` is the canonical text (what PutBucketPolicy sends); `bytes` its UTF-8 size. */
export type GeneratedPolicy = { policy: JsonPolicy; json: string; bytes: number };
/** A generated bucket policy, with how its session cut-offs were written. */
export type GeneratedBucketPolicy = GeneratedPolicy & { cutoffs: CutoffLayout };
export type GenerateResult = { ok: true; value: GeneratedBucketPolicy } | { ok: false; error: GenerateError };
export type GenerateOptions = {
  /**
   * Bytes the caller will add (foreign statements kept by the merge): the cut-offs are folded
   * until the policy plus these fits in S3's limit.
   */
  reserveBytes?: number;
};

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
 * 5. `DenyEndedSessions<n>` when there are cut-offs (session-cutoffs.ts): Identity Center does not
 *    end live sessions when an assignment goes, so the sessions of the set whose grant ended are
 *    refused, per user, until they have run out. When they would not fit, they are folded into
 *    role-wide denies of the set (never dropped), the least disruptive fold first.
 *
 * Pure and deterministic: the same spec, whatever the order of its lists, gives the same bytes.
 * A policy over S3's 20 KB limit (with `reserveBytes`) even with every cut-off folded is an
 * error, never truncated.
 */
export function generateBucketPolicy(input: BucketSpec, options: GenerateOptions = {}): GenerateResult {
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
  // Cut-offs in force first, folded as far as they must be to fit; pre-armed ones only into the
  // room left with nothing folded, earliest start first: they never displace one in force and are
  // never folded (left out, they are armed at the grant's end instead).
  const all = spec.sessionCutoffs ?? [];
  const inForce = all.filter((cutoff) => cutoff.from === undefined);
  const prearmed = all
    .filter((cutoff) => cutoff.from !== undefined)
    .sort(
      (a, b) =>
        Date.parse(a.from ?? "") - Date.parse(b.from ?? "") ||
        compareText(
          `${a.accountId}/${a.permissionSet}/${a.identityStoreUserId}`,
          `${b.accountId}/${b.permissionSet}/${b.identityStoreUserId}`,
        ),
    );
  const resources = [bucketArn, objectsArn];
  const reserve = options.reserveBytes ?? 0;
  const attempt = (cutoffs: readonly SessionCutoff[], folds: ReadonlyMap<string, CutoffFold>) => {
    const written = cutoffStatements(groupCutoffs(cutoffs), resources, folds);
    const finished = finish(
      { Version: "2012-10-17", Statement: [...statements, ...written.statements] },
      reserve,
    );
    return finished.ok
      ? { ok: true as const, value: { ...finished.value, cutoffs: written.layout } }
      : finished;
  };
  const withPrearmed = (count: number) => {
    const result = attempt([...inForce, ...prearmed.slice(0, count)], new Map());
    return result.ok
      ? {
          ...result,
          value: {
            ...result.value,
            cutoffs: { ...result.value.cutoffs, prearmDeferred: prearmed.length - count },
          },
        }
      : result;
  };
  if (prearmed.length > 0) {
    const everything = withPrearmed(prearmed.length);
    if (everything.ok) {
      return everything;
    }
    const none = withPrearmed(0);
    if (none.ok) {
      // As many as fit: the largest count that still fits with nothing folded.
      let low = 0;
      let high = prearmed.length;
      let best = none;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        const result = withPrearmed(middle);
        if (result.ok) {
          low = middle;
          best = result;
        } else {
          high = middle;
        }
      }
      return best;
    }
  }
  const sets = groupCutoffs(inForce);
  let folds: Map<string, CutoffFold> | undefined = new Map();
  let last: GenerateResult | undefined;
  while (folds !== undefined) {
    const result = attempt(inForce, folds);
    last = result.ok
      ? {
          ok: true,
          value: { ...result.value, cutoffs: { ...result.value.cutoffs, prearmDeferred: prearmed.length } },
        }
      : result;
    if (result.ok) {
      return last;
    }
    folds = nextFold(sets, folds);
  }
  // Unreachable with an empty `folds` map above, but the compiler cannot tell.
  return last ?? { ok: false, error: tooLarge(0, reserve) };
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
  reserveBytes = 0,
): { ok: true; value: GeneratedPolicy } | { ok: false; error: PolicyTooLarge } {
  const json = serializePolicy(policy);
  const bytes = policyBytes(json);
  if (bytes + reserveBytes > MAX_POLICY_BYTES) {
    return { ok: false, error: tooLarge(bytes, reserveBytes) };
  }
  return { ok: true, value: { policy, json, bytes } };
}

function tooLarge(bytes: number, reserveBytes: number): PolicyTooLarge {
  const size = bytes + reserveBytes;
  return {
    code: "POLICY_TOO_LARGE",
    message:
      reserveBytes === 0
        ? `the bucket policy would be ${size} bytes; S3 accepts at most ${MAX_POLICY_BYTES}`
        : `the bucket policy would be ${size} bytes with the ${reserveBytes} bytes of statements Keyturn did not write; S3 accepts at most ${MAX_POLICY_BYTES}`,
    size,
    limit: MAX_POLICY_BYTES,
  };
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

/**
 * How many cut-offs of one permission set, one per user, fit in the bucket's policy before any
 * is folded role-wide: the bucket's session cut-off capacity. Measured by generating, with
 * Identity Store ids of the long form (47 characters, `0123456789-<uuid>`), ending together.
 * `reserveBytes` as for generateBucketPolicy (the foreign statements an apply keeps).
 */
export function sessionCutoffCapacity(spec: BucketSpec, options: GenerateOptions = {}): number {
  const parsed = parseBucketSpec(spec);
  if (!parsed.ok) {
    return 0;
  }
  const { sessionCutoffs: _current, ...base } = parsed.spec;
  const set = permissionSetsOf(base)[0] ?? { accountId: base.accountId ?? "000000000000", name: "Any" };
  const fits = (count: number) => {
    const sessionCutoffs = Array.from({ length: count }, (_, index) => ({
      identityStoreUserId: syntheticUserId(index),
      accountId: set.accountId,
      permissionSet: set.name,
      until: "2030-01-01T12:00:00.000Z",
    }));
    const generated = generateBucketPolicy({ ...base, sessionCutoffs }, options);
    return generated.ok && generated.value.cutoffs.roleWide.length === 0;
  };
  let low = 0;
  let high = 1;
  while (fits(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (fits(middle)) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return low;
}

function syntheticUserId(index: number): string {
  const hex = (value: number, width: number) => value.toString(16).padStart(width, "0").slice(-width);
  return `906739ffd8-${hex(index, 8)}-${hex(index * 7, 4)}-4${hex(index, 3)}-8${hex(index * 3, 3)}-${hex(index * 13, 12)}`;
}
