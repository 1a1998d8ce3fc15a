import type { Result } from "./result.js";

/** One user-level account assignment, in Keyturn's terms (names, not ARNs). */
export type AssignmentTarget = { accountId: string; permissionSetName: string; principalId: string };

/**
 * The end of an asynchronous create or delete. `requestId` is AWS's id for the operation (kept in
 * the attempt log); FAILED carries AWS's reason verbatim so people can act on it.
 */
export type ProvisioningOutcome =
  | { status: "SUCCEEDED"; requestId: string }
  | { status: "FAILED"; requestId: string; failureReason: string };

export type IdentityCenterUser = { userId: string; userName: string };

/**
 * The port to IAM Identity Center. Transient trouble (throttling that outlasted the retries,
 * timeouts, network) is thrown as a retryable AppError; permanent refusals (validation, unknown
 * account or permission set) as a non-retryable one; expected lookups misses are values.
 */
export type IdentityCenter = {
  findUserByEmail(email: string): Promise<Result<IdentityCenterUser>>;
  hasAssignment(target: AssignmentTarget): Promise<boolean>;
  createAssignment(target: AssignmentTarget): Promise<ProvisioningOutcome>;
  deleteAssignment(target: AssignmentTarget): Promise<ProvisioningOutcome>;
  /** Every principal assigned the set in the account (users and groups), for drift scans. */
  listAssignments(input: {
    accountId: string;
    permissionSetName: string;
  }): Promise<Array<{ principalType: "USER" | "GROUP"; principalId: string }>>;
  permissionSet(name: string): Promise<{ arn: string; sessionDurationSeconds: number }>;
};
