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

/** An asynchronous create or delete as AWS last reported it: still running, or its end. */
export type ChangeStatus = { status: "IN_PROGRESS"; requestId: string } | ProvisioningOutcome;

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
  /**
   * Sends the delete and answers with AWS's first status, without waiting: a removal holds no
   * worker while AWS works, so many removals can be in flight under the call quota.
   */
  startDeletion(target: AssignmentTarget): Promise<ChangeStatus>;
  /** Where an earlier deletion request stands; null when AWS no longer knows its id. */
  deletionStatus(requestId: string): Promise<ChangeStatus | null>;
  /** Every principal assigned the set in the account (users and groups), for drift scans. */
  listAssignments(input: {
    accountId: string;
    permissionSetName: string;
  }): Promise<Array<{ principalType: "USER" | "GROUP"; principalId: string }>>;
  permissionSet(name: string): Promise<{ arn: string; sessionDurationSeconds: number }>;
};
