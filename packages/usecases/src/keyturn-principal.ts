import type {
  BucketCapability,
  BucketPolicyDeps,
  BucketPolicyResult,
  BucketPolicySpec,
} from "./bucket-policy-ports.js";
import { failure } from "./bucket-policy-support.js";

/**
 * Who Keyturn is in AWS: the ARN STS GetCallerIdentity answers for its credentials
 * (`arn:aws:sts::<account>:assumed-role/<role>/<session>` for a role), or the role ARN an operator
 * configured (`arn:aws:iam::<account>:role/<path><role>`), which also gives the role's path.
 */
export type KeyturnPrincipal = { arn: string; source: "sts" | "config" };

/** Where Keyturn learns its own principal; failures are thrown as AppErrors (STS unreachable). */
export type KeyturnIdentity = { whoAmI(): Promise<KeyturnPrincipal> };

/** The capabilities Keyturn needs on every bucket it manages: read and write the policy. */
export const KEYTURN_CAPABILITIES: readonly BucketCapability[] = ["administer-resource", "read-config"];

type OwnRole =
  | { kind: "role"; accountId: string; name: string; arn: string | null }
  | { kind: "unnameable"; arn: string };

/** The role behind an STS or IAM ARN; `arn` is the full role ARN when known (with its path). */
export function ownRole(principal: KeyturnPrincipal): OwnRole {
  const session = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[^/]+$/.exec(principal.arn);
  if (session?.[1] !== undefined && session[2] !== undefined) {
    return { kind: "role", accountId: session[1], name: session[2], arn: null };
  }
  const role = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(principal.arn);
  if (role?.[1] !== undefined && role[2] !== undefined) {
    return { kind: "role", accountId: role[1], name: role[2], arn: principal.arn };
  }
  return { kind: "unnameable", arn: principal.arn };
}

/**
 * Whether a spec principal stands for Keyturn's role. By exact ARN when Keyturn knows its role's
 * ARN (configured); by account and role name when it only has the session ARN, which carries no
 * path (IAM role names are unique in an account, whatever the path). A permission set counts when
 * Keyturn itself runs as that set's Identity Center role.
 */
function names(
  ref: BucketPolicySpec["capabilities"][BucketCapability],
  own: OwnRole & { kind: "role" },
  specAccount?: string,
): boolean {
  return (ref ?? []).some((principal) => {
    if ("roleArn" in principal) {
      if (own.arn !== null) {
        return principal.roleArn === own.arn;
      }
      const parsed = ownRole({ arn: principal.roleArn, source: "config" });
      return parsed.kind === "role" && parsed.accountId === own.accountId && parsed.name === own.name;
    }
    const account = principal.accountId ?? specAccount;
    return (
      account === own.accountId &&
      new RegExp(`^AWSReservedSSO_${escapeRegExp(principal.permissionSet)}_[0-9a-f]{16}$`).test(own.name)
    );
  });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Refuses a spec whose policy would stop Keyturn from reading or writing it: once applied, only
 * the bucket owner account's root user could undo it (S3 "Bucket policies": lock-out recovery),
 * and session cut-offs would stop landing. Without a known identity (no STS, no configuration)
 * nothing is checked.
 */
export async function checkLockout(
  deps: Pick<BucketPolicyDeps, "keyturn">,
  spec: BucketPolicySpec,
): Promise<BucketPolicyResult<null>> {
  if (deps.keyturn === undefined) {
    return { ok: true, value: null };
  }
  const principal = await deps.keyturn.whoAmI();
  const own = ownRole(principal);
  if (own.kind === "unnameable") {
    return failure(
      "LOCKOUT_SPEC",
      `Keyturn runs as ${own.arn}, which a bucket spec cannot name (only roles): run Keyturn under an IAM role, or it cannot keep managing the bucket's policy`,
      { missingPrincipal: own.arn, problems: [] },
    );
  }
  const missing = KEYTURN_CAPABILITIES.filter(
    (capability) => !names(spec.capabilities[capability], own, spec.accountId),
  );
  if (missing.length === 0) {
    return { ok: true, value: null };
  }
  const roleArn = own.arn ?? `arn:aws:iam::${own.accountId}:role/${own.name}`;
  const pathNote =
    own.arn === null ? " (with the role's path, if it has one; set KEYTURN_ROLE_ARN to have it checked)" : "";
  return failure(
    "LOCKOUT_SPEC",
    `this spec would lock Keyturn out of the bucket's policy: its role ${roleArn} (${principal.source === "sts" ? `STS GetCallerIdentity: ${principal.arn}` : "KEYTURN_ROLE_ARN"}) is missing from ${missing.join(" and ")}; add { "roleArn": "${roleArn}" }${pathNote} to ${missing.length === 1 ? "it" : "both"}`,
    {
      missingPrincipal: roleArn,
      capabilities: missing,
      problems: missing.map((capability) => ({
        path: `capabilities.${capability}`,
        message: `must include Keyturn's own role ${roleArn}, or Keyturn can no longer read or write the policy`,
      })),
    },
  );
}
