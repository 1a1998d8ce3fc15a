import type { Result } from "./result.js";

/** One user-level account assignment, in Keyturn's terms (names, not ARNs). */
export type AssignmentTarget = { accountId: string; permissionSetName: string; principalId: string };

/**
 * The end of an asynchronous create or delete. `requestId` is AWS's id for the operation (kept in
 * the attempt log); FAILED carries AWS's reason verbatim so people can act on it.
 */
export type ProvisioningOutcome =
  | { status: "SUCCEEDED"; requestId: string; createdAt?: Date }
  | { status: "FAILED"; requestId: string; failureReason: string; createdAt?: Date };

/**
 * An asynchronous create or delete as AWS last reported it: still running, or its end. `createdAt`
 * is when AWS accepted the request (its CreatedDate), when AWS said.
 */
export type ChangeStatus =
  | { status: "IN_PROGRESS"; requestId: string; createdAt?: Date }
  | ProvisioningOutcome;

/**
 * Hooks around one CreateAccountAssignment. `beforeSend` runs before every attempt, after the wait
 * for a creation slot and before the wait for the call quota; it may throw to stop the attempt,
 * and the check it returns runs right before the request goes on the wire, after every wait. That
 * last check must be synchronous and cheap: a request held back after its quota slot would arrive
 * together with later ones. `accepted` runs as soon as AWS answered with its request id, before
 * the wait for the outcome.
 */
export type CreationHooks = {
  beforeSend?(): Promise<(() => void) | undefined>;
  accepted?(status: { requestId: string; createdAt?: Date }): Promise<void>;
};

export type IdentityCenterUser = { userId: string; userName: string };

/**
 * The port to IAM Identity Center. Transient trouble (throttling that outlasted the retries,
 * timeouts, network) is thrown as a retryable AppError; permanent refusals (validation, unknown
 * account or permission set) as a non-retryable one; expected lookups misses are values.
 */
export type IdentityCenter = {
  findUserByEmail(email: string): Promise<Result<IdentityCenterUser>>;
  hasAssignment(target: AssignmentTarget): Promise<boolean>;
  /**
   * Sends the create and waits for its outcome. Thrown AppErrors with code AWS_UNAVAILABLE (5xx,
   * network, timeouts) leave it unknown whether AWS accepted the request.
   */
  createAssignment(target: AssignmentTarget, hooks?: CreationHooks): Promise<ProvisioningOutcome>;
  /** Where an earlier creation request stands; null when AWS no longer knows its id. */
  creationStatus(requestId: string): Promise<ChangeStatus | null>;
  /**
   * The newest creation request of exactly this target AWS accepted at or after `since`, or null
   * when there is none: for a create whose sender died before it could save the request id.
   */
  findCreation(target: AssignmentTarget, since: Date): Promise<ChangeStatus | null>;
  /** Whether the Identity Store still has this user id (DescribeUser). */
  userExists(userId: string): Promise<boolean>;
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
