import { randomUUID } from "node:crypto";
import {
  type AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
} from "@aws-sdk/client-sso-admin";
import {
  AppError,
  type AssignmentTarget,
  type ChangeStatus,
  type CreationHooks,
  type ProvisioningOutcome,
} from "@keyturn/usecases";
import { awsErrorName, awsRequestIdOf } from "./errors.js";
import type { IdentityCenterContext } from "./identity-center-context.js";
import type { InstanceMetadata } from "./identity-center-metadata.js";
import { nextToken, pages } from "./pages.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { TimeSource } from "./time-source.js";

// Account assignments and their status: listing, looking one up, creating and deleting them and
// waiting for AWS to finish (both are asynchronous), and finding a creation again after a crash.

const MAX_POLL_INTERVAL_MS = 2000;
// How far AWS's CreatedDate may be behind our clock when looking for a request we sent.
const CLOCK_SKEW_MS = 60_000;

type Kind = "creation" | "deletion";

export function createAssignmentCalls(
  ctx: IdentityCenterContext,
  metadata: InstanceMetadata,
  polling: { limiter: RateLimiter; time: TimeSource; maxPollMs: number; firstPollMs: number },
) {
  const { ssoAdmin, call } = ctx;
  const { instance, permissionSetInfo, withPermissionSetArn } = metadata;
  const { limiter, time, maxPollMs, firstPollMs } = polling;

  async function listPrincipals(input: {
    accountId: string;
    permissionSetName: string;
  }): Promise<Array<{ principalType: "USER" | "GROUP"; principalId: string }>> {
    const { instanceArn } = await instance();
    return withPermissionSetArn(input.permissionSetName, async (arn) => {
      const principals: Array<{ principalType: "USER" | "GROUP"; principalId: string }> = [];
      const listed = pages((token) =>
        call("ListAccountAssignments", "read", () =>
          ssoAdmin.send(
            new ListAccountAssignmentsCommand({
              InstanceArn: instanceArn,
              AccountId: input.accountId,
              PermissionSetArn: arn,
              MaxResults: 100,
              ...nextToken(token),
            }),
          ),
        ),
      );
      for await (const page of listed) {
        for (const assignment of page.AccountAssignments ?? []) {
          const { PrincipalType: principalType, PrincipalId: principalId } = assignment;
          if ((principalType === "USER" || principalType === "GROUP") && principalId !== undefined) {
            principals.push({ principalType, principalId });
          }
        }
      }
      return principals;
    });
  }

  /**
   * One principal's assignments in one account, usually a single page. Not `listPrincipals`: AWS
   * pages ListAccountAssignments with tokens that, like offsets, shift when an assignment on an
   * earlier page is deleted between calls, so a present assignment could be skipped and taken as
   * absent (a second Create, or a removal marked done while access stays). A principal's own
   * assignments in one account change only through its own serialized reconciles.
   */
  async function hasAssignment(target: AssignmentTarget): Promise<boolean> {
    const { instanceArn } = await instance();
    const wanted = await permissionSetInfo(target.permissionSetName);
    const arns = new Set<string>();
    const listed = pages((token) =>
      call("ListAccountAssignmentsForPrincipal", "read", () =>
        ssoAdmin.send(
          new ListAccountAssignmentsForPrincipalCommand({
            InstanceArn: instanceArn,
            PrincipalType: "USER",
            PrincipalId: target.principalId,
            Filter: { AccountId: target.accountId },
            MaxResults: 100,
            ...nextToken(token),
          }),
        ),
      ),
    );
    for await (const page of listed) {
      for (const assignment of page.AccountAssignments ?? []) {
        if (assignment.AccountId === target.accountId && assignment.PermissionSetArn !== undefined) {
          arns.add(assignment.PermissionSetArn);
        }
      }
    }
    if (arns.has(wanted.arn)) {
      return true;
    }
    if ([...arns].every((arn) => metadata.knowsArn(arn))) {
      return false;
    }
    // An ARN we have never seen may be the set deleted and recreated under the same name: answer
    // "absent" only against a fresh lookup, or a live assignment could be taken as removed.
    metadata.forgetName(target.permissionSetName, wanted.arn);
    const fresh = await permissionSetInfo(target.permissionSetName);
    return arns.has(fresh.arn);
  }

  const DESCRIBE: Record<Kind, string> = {
    creation: "DescribeAccountAssignmentCreationStatus",
    deletion: "DescribeAccountAssignmentDeletionStatus",
  };

  async function sendDescribe(
    kind: Kind,
    instanceArn: string,
    requestId: string,
  ): Promise<AccountAssignmentOperationStatus | undefined> {
    if (kind === "creation") {
      const output = await ssoAdmin.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: instanceArn,
          AccountAssignmentCreationRequestId: requestId,
        }),
      );
      return output.AccountAssignmentCreationStatus;
    }
    const output = await ssoAdmin.send(
      new DescribeAccountAssignmentDeletionStatusCommand({
        InstanceArn: instanceArn,
        AccountAssignmentDeletionRequestId: requestId,
      }),
    );
    return output.AccountAssignmentDeletionStatus;
  }

  function describeStatus(kind: Kind, instanceArn: string, requestId: string) {
    // A deletion's poll is a read, not a removal: while removals queue for the quota, every
    // DeleteAccountAssignment goes out before the polls of those already sent, so access ends
    // sooner for all of them.
    return call(DESCRIBE[kind], kind === "creation" ? "creation" : "read", () =>
      sendDescribe(kind, instanceArn, requestId),
    );
  }

  /** Where an earlier create or delete stands, by AWS's id; null when AWS no longer knows it. */
  async function statusById(kind: Kind, requestId: string): Promise<ChangeStatus | null> {
    const { instanceArn } = await instance();
    const status = await call(
      DESCRIBE[kind],
      "read",
      () => sendDescribe(kind, instanceArn, requestId),
      // The id is our own record of a request AWS accepted; AWS forgetting it is an answer.
      (error) => (awsErrorName(error) === "ResourceNotFoundException" ? { value: null } : undefined),
    );
    return status === null ? null : changeStatus(DESCRIBE[kind], status);
  }

  function changeStatus(
    operation: string,
    status: AccountAssignmentOperationStatus | undefined,
  ): ChangeStatus {
    const requestId = status?.RequestId;
    if (requestId === undefined) {
      throw new AppError("AWS_UNEXPECTED_RESPONSE", `${operation} returned no request id`, {
        retryable: false,
      });
    }
    if (status?.Status === "SUCCEEDED" || status?.Status === "FAILED") {
      return ended(status, requestId, status.CreatedDate);
    }
    return {
      status: "IN_PROGRESS",
      requestId,
      ...(status?.CreatedDate === undefined ? {} : { createdAt: status.CreatedDate }),
    };
  }

  /** A request AWS finished, as the reconciler reads it (FAILED carries AWS's reason). */
  function ended(
    status: AccountAssignmentOperationStatus,
    requestId: string,
    createdDate: Date | undefined,
  ): ProvisioningOutcome {
    const createdAt = createdDate === undefined ? {} : { createdAt: createdDate };
    return status.Status === "FAILED"
      ? {
          status: "FAILED",
          requestId,
          failureReason: status.FailureReason ?? "AWS reported FAILED without a reason",
          ...createdAt,
        }
      : { status: "SUCCEEDED", requestId, ...createdAt };
  }

  /**
   * Waits for an asynchronous create/delete to end. Failures such as an IAM role quota show only
   * here, as FAILED + FailureReason (aws-samples/iam-identity-center-team#522), so the adapter
   * always waits. The wait is bounded: a request still IN_PROGRESS after maxPollMs becomes a
   * retryable PROVISIONING_TIMEOUT naming AWS's request id, and the reconciler tries again later.
   */
  async function settle(
    kind: Kind,
    instanceArn: string,
    initial: AccountAssignmentOperationStatus | undefined,
  ): Promise<ProvisioningOutcome> {
    const operation = kind === "creation" ? "CreateAccountAssignment" : "DeleteAccountAssignment";
    const requestId = initial?.RequestId;
    if (requestId === undefined) {
      throw new AppError("AWS_UNEXPECTED_RESPONSE", `${operation} returned no request id`, {
        retryable: false,
      });
    }
    const deadline = time.now() + maxPollMs;
    let status = initial;
    let interval = firstPollMs;
    while (status?.Status === "IN_PROGRESS" || status?.Status === undefined) {
      const remaining = deadline - time.now();
      if (remaining <= 0) {
        throw new AppError(
          "PROVISIONING_TIMEOUT",
          `${operation} request ${requestId} was still IN_PROGRESS after ${Math.round(maxPollMs / 1000)} s; it may still complete in AWS.`,
          { retryable: true },
        );
      }
      await time.sleep(Math.min(interval, remaining));
      interval = Math.min(interval * 2, MAX_POLL_INTERVAL_MS);
      status = await describeStatus(kind, instanceArn, requestId);
    }
    return ended(status, requestId, status.CreatedDate ?? initial?.CreatedDate);
  }

  async function createAssignment(
    target: AssignmentTarget,
    hooks: CreationHooks = {},
  ): Promise<ProvisioningOutcome> {
    const { instanceArn } = await instance();
    // Resolve the set before taking a slot, so a slow first lookup does not hold one.
    await permissionSetInfo(target.permissionSetName);
    return limiter.withCreationSlot(async () => {
      const initial = await withPermissionSetArn(target.permissionSetName, (arn) =>
        call(
          "CreateAccountAssignment",
          "creation",
          async () => {
            const output = await ssoAdmin.send(
              new CreateAccountAssignmentCommand({
                InstanceArn: instanceArn,
                TargetId: target.accountId,
                TargetType: "AWS_ACCOUNT",
                PermissionSetArn: arn,
                PrincipalType: "USER",
                PrincipalId: target.principalId,
              }),
            );
            return output.AccountAssignmentCreationStatus;
          },
          undefined,
          hooks.beforeSend,
        ),
      );
      const accepted = changeStatus("CreateAccountAssignment", initial);
      await hooks.accepted?.({
        requestId: accepted.requestId,
        ...(accepted.createdAt === undefined ? {} : { createdAt: accepted.createdAt }),
      });
      return settle("creation", instanceArn, initial);
    });
  }

  /**
   * Only after a crash in the instant between AWS accepting a create and Keyturn saving its id:
   * every creation request AWS lists (whatever its status) that it accepted since `since`, minus
   * a minute of clock skew, described until one of this target turns up. AWS lists a request from
   * the moment it accepts it, so "none" means the create never reached AWS.
   */
  async function findCreation(target: AssignmentTarget, since: Date): Promise<ChangeStatus | null> {
    const { instanceArn } = await instance();
    const { arn } = await permissionSetInfo(target.permissionSetName);
    const from = since.getTime() - CLOCK_SKEW_MS;
    const candidates: Array<{ requestId: string; createdAt: number }> = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await call("ListAccountAssignmentCreationStatus", "read", () =>
        ssoAdmin.send(
          new ListAccountAssignmentCreationStatusCommand({
            InstanceArn: instanceArn,
            MaxResults: 100,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      for (const entry of page.AccountAssignmentsCreationStatus ?? []) {
        const createdAt = entry.CreatedDate?.getTime();
        if (entry.RequestId !== undefined && (createdAt === undefined || createdAt >= from)) {
          candidates.push({ requestId: entry.RequestId, createdAt: createdAt ?? Number.POSITIVE_INFINITY });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    // Newest first: a later request of the same target is the one that counts.
    candidates.sort((a, b) => b.createdAt - a.createdAt);
    for (const candidate of candidates) {
      const status = await call(DESCRIBE.creation, "read", () =>
        sendDescribe("creation", instanceArn, candidate.requestId),
      );
      if (
        status?.TargetId === target.accountId &&
        status.PermissionSetArn === arn &&
        status.PrincipalType === "USER" &&
        status.PrincipalId === target.principalId
      ) {
        return changeStatus("DescribeAccountAssignmentCreationStatus", status);
      }
    }
    return null;
  }

  /**
   * AWS's API reference lists ResourceNotFoundException among DeleteAccountAssignment's errors
   * without saying when; moto answers it for an assignment that does not exist, the project's
   * emulator a request that ends FAILED (identity-center-contract.int.test.ts). Either is a request
   * that ended without deleting anything, so a refusal that outlives the set-ARN re-resolution is
   * answered as FAILED: the reconciler then looks whether the assignment is still there, as after
   * any failed delete, instead of failing the removal for good.
   */
  async function sendDeletion(
    instanceArn: string,
    target: AssignmentTarget,
  ): Promise<AccountAssignmentOperationStatus | undefined> {
    try {
      return await sendDeletionCall(instanceArn, target);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "AWS_RESOURCE_NOT_FOUND")) {
        throw error;
      }
      return {
        Status: "FAILED",
        RequestId: awsRequestIdOf(error.cause) ?? `not-found-${randomUUID()}`,
        FailureReason: error.message,
      };
    }
  }

  async function sendDeletionCall(instanceArn: string, target: AssignmentTarget) {
    return withPermissionSetArn(target.permissionSetName, (arn) =>
      call("DeleteAccountAssignment", "removal", async () => {
        const output = await ssoAdmin.send(
          new DeleteAccountAssignmentCommand({
            InstanceArn: instanceArn,
            TargetId: target.accountId,
            TargetType: "AWS_ACCOUNT",
            PermissionSetArn: arn,
            PrincipalType: "USER",
            PrincipalId: target.principalId,
          }),
        );
        return output.AccountAssignmentDeletionStatus;
      }),
    );
  }

  async function deleteAssignment(target: AssignmentTarget): Promise<ProvisioningOutcome> {
    const { instanceArn } = await instance();
    return settle("deletion", instanceArn, await sendDeletion(instanceArn, target));
  }

  async function startDeletion(target: AssignmentTarget): Promise<ChangeStatus> {
    const { instanceArn } = await instance();
    return changeStatus("DeleteAccountAssignment", await sendDeletion(instanceArn, target));
  }

  return {
    listPrincipals,
    hasAssignment,
    statusById,
    createAssignment,
    findCreation,
    deleteAssignment,
    startDeletion,
  };
}
