import type { EmulatorContext, JsonHandler } from "./call.js";
import type { AssignmentOperation, AssignmentTarget, Instance, PermissionSet } from "./state.js";
import {
  ACCOUNT_ID,
  INSTANCE_ARN,
  maxResults,
  optionalObject,
  optionalString,
  PERMISSION_SET_ARN,
  PRINCIPAL_ID,
  paginate,
  REQUEST_ID,
  requiredEnum,
  requiredString,
} from "./validate.js";
import { AwsError, epochSeconds, type JsonObject } from "./wire.js";

// SSO Admin (X-Amz-Target: SWBExternalService.<Op>). Account assignments are asynchronous: a
// request is IN_PROGRESS for `assignmentDelayMs`, then SUCCEEDED (or FAILED with a reason).
// Documented choices where AWS is vague:
// - Creating an assignment that exists succeeds (idempotent); deleting a missing one SUCCEEDS.
// - A create and a delete of the same assignment that overlap give ConflictException.
// - An account the emulator does not know ends FAILED, as AWS reports provisioning problems.
// - A principal the identity store does not have (a deleted user) is accepted and ends FAILED with
//   "Received a 404 status error: the USER assignee <id> was not found in directory <store>", as
//   AWS answers (hashicorp/terraform-provider-aws#19341 shows that status for a user deleted from
//   the identity store); the API reference lists ResourceNotFoundException without saying which
//   resource, and names no principal check before the request is accepted.

function notFound(message: string): AwsError {
  return new AwsError("ResourceNotFoundException", message);
}

function instanceByArn(ctx: EmulatorContext, instanceArn: string): Instance {
  const instance = ctx.state.instance;
  if (instance === undefined || instance.instanceArn !== instanceArn) {
    throw notFound(`Instance ${instanceArn} does not exist.`);
  }
  return instance;
}

function permissionSetByArn(ctx: EmulatorContext, arn: string): PermissionSet {
  const set = ctx.state.permissionSets.get(arn);
  if (set === undefined) {
    throw notFound(`Could not find PermissionSet with PermissionSetArn ${arn}.`);
  }
  return set;
}

function requireInstance(input: JsonObject, ctx: EmulatorContext): Instance {
  return instanceByArn(ctx, requiredString(input, "InstanceArn", INSTANCE_ARN));
}

function requirePermissionSet(input: JsonObject, ctx: EmulatorContext): PermissionSet {
  return permissionSetByArn(ctx, requiredString(input, "PermissionSetArn", PERMISSION_SET_ARN));
}

/** Every member is validated before anything is looked up, as AWS does. */
function readTarget(input: JsonObject, ctx: EmulatorContext): AssignmentTarget {
  const instanceArn = requiredString(input, "InstanceArn", INSTANCE_ARN);
  const accountId = requiredString(input, "TargetId", ACCOUNT_ID);
  requiredEnum(input, "TargetType", ["AWS_ACCOUNT"]);
  const permissionSetArn = requiredString(input, "PermissionSetArn", PERMISSION_SET_ARN);
  const principalType = requiredEnum(input, "PrincipalType", ["USER", "GROUP"]);
  const principalId = requiredString(input, "PrincipalId", PRINCIPAL_ID);
  instanceByArn(ctx, instanceArn);
  permissionSetByArn(ctx, permissionSetArn);
  return { accountId, permissionSetArn, principalType, principalId };
}

function statusJson(op: AssignmentOperation): JsonObject {
  return {
    Status: op.status,
    RequestId: op.requestId,
    ...(op.failureReason === undefined ? {} : { FailureReason: op.failureReason }),
    TargetId: op.accountId,
    TargetType: "AWS_ACCOUNT",
    PermissionSetArn: op.permissionSetArn,
    PrincipalType: op.principalType,
    PrincipalId: op.principalId,
    CreatedDate: epochSeconds(op.createdAt),
  };
}

function conflict(): AwsError {
  return new AwsError(
    "ConflictException",
    "Another account assignment operation on this principal, permission set and account is in progress. Retry later.",
  );
}

const createAccountAssignment: JsonHandler = (input, ctx) => {
  const target = readTarget(input, ctx);
  const { state, faults } = ctx;
  if (state.hasPending("deletion", target) || faults.drawConflict()) {
    throw conflict();
  }
  const limit = faults.outstandingCreationLimit();
  if (limit !== undefined && state.outstandingCreations() >= limit) {
    throw new AwsError(
      "ThrottlingException",
      `Too many requests: at most ${limit} account assignment creations may be in progress at once.`,
    );
  }
  let failure = faults.drawAsyncFailure("creation") ?? missingPrincipal(ctx, target);
  if (failure === undefined && !state.accounts.has(target.accountId)) {
    failure = `Received a 404 status error: Not supported error. Account ${target.accountId} is not a member of the organization.`;
  }
  return { AccountAssignmentCreationStatus: statusJson(state.startOperation("creation", target, failure)) };
};

function missingPrincipal(ctx: EmulatorContext, target: AssignmentTarget): string | undefined {
  if (ctx.state.principalExists(target.principalType, target.principalId)) {
    return undefined;
  }
  const store = ctx.state.instance?.identityStoreId ?? "";
  return `Received a 404 status error: the ${target.principalType} assignee ${target.principalId} was not found in directory ${store}`;
}

const deleteAccountAssignment: JsonHandler = (input, ctx) => {
  const target = readTarget(input, ctx);
  const { state, faults } = ctx;
  if (state.hasPending("creation", target) || faults.drawConflict()) {
    throw conflict();
  }
  const failure = faults.drawAsyncFailure("deletion") ?? missingPrincipal(ctx, target);
  return { AccountAssignmentDeletionStatus: statusJson(state.startOperation("deletion", target, failure)) };
};

function describeStatus(kind: "creation" | "deletion", member: string, outputMember: string): JsonHandler {
  return (input, ctx) => {
    requireInstance(input, ctx);
    const requestId = requiredString(input, member, REQUEST_ID);
    const op = ctx.state.operations.get(requestId);
    if (op === undefined || op.kind !== kind) {
      throw notFound(`Could not find an account assignment ${kind} request with id ${requestId}.`);
    }
    return { [outputMember]: statusJson(op) };
  };
}

function listStatus(kind: "creation" | "deletion", outputMember: string): JsonHandler {
  return (input, ctx) => {
    const instance = requireInstance(input, ctx);
    const limit = maxResults(input);
    const filter = optionalObject(input, "Filter");
    const status = filter === undefined ? undefined : optionalString(filter, "Status");
    const ops = [...ctx.state.operations.values()].filter(
      (op) => op.kind === kind && (status === undefined || op.status === status),
    );
    const { page, nextToken } = paginate(ops, {
      maxResults: limit,
      nextToken: optionalString(input, "NextToken"),
      scope: `${outputMember}|${instance.instanceArn}|${status ?? ""}`,
    });
    return {
      [outputMember]: page.map((op) => ({
        Status: op.status,
        RequestId: op.requestId,
        CreatedDate: epochSeconds(op.createdAt),
      })),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  };
}

const listInstances: JsonHandler = (input, ctx) => {
  const limit = maxResults(input);
  const instance = ctx.state.instance;
  const instances = instance === undefined ? [] : [instance];
  const { page, nextToken } = paginate(instances, {
    maxResults: limit,
    nextToken: optionalString(input, "NextToken"),
    scope: "ListInstances",
  });
  return {
    Instances: page.map((i) => ({
      InstanceArn: i.instanceArn,
      IdentityStoreId: i.identityStoreId,
      OwnerAccountId: i.ownerAccountId,
      Name: i.name,
      CreatedDate: epochSeconds(i.createdAt),
      Status: "ACTIVE",
    })),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
};

const listPermissionSets: JsonHandler = (input, ctx) => {
  const instance = requireInstance(input, ctx);
  const { page, nextToken } = paginate([...ctx.state.permissionSets.keys()], {
    maxResults: maxResults(input),
    nextToken: optionalString(input, "NextToken"),
    scope: `ListPermissionSets|${instance.instanceArn}`,
  });
  return { PermissionSets: page, ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
};

const describePermissionSet: JsonHandler = (input, ctx) => {
  requireInstance(input, ctx);
  const set = requirePermissionSet(input, ctx);
  return {
    PermissionSet: {
      Name: set.name,
      PermissionSetArn: set.permissionSetArn,
      ...(set.description === undefined ? {} : { Description: set.description }),
      CreatedDate: epochSeconds(set.createdAt),
      SessionDuration: set.sessionDuration,
      ...(set.relayState === undefined ? {} : { RelayState: set.relayState }),
    },
  };
};

const listAccountAssignments: JsonHandler = (input, ctx) => {
  const instanceArn = requiredString(input, "InstanceArn", INSTANCE_ARN);
  const accountId = requiredString(input, "AccountId", ACCOUNT_ID);
  const permissionSetArn = requiredString(input, "PermissionSetArn", PERMISSION_SET_ARN);
  const limit = maxResults(input);
  instanceByArn(ctx, instanceArn);
  const set = permissionSetByArn(ctx, permissionSetArn);
  const matching = [...ctx.state.assignments.values()].filter(
    (a) => a.accountId === accountId && a.permissionSetArn === set.permissionSetArn,
  );
  const { page, nextToken } = paginate(matching, {
    maxResults: limit,
    nextToken: optionalString(input, "NextToken"),
    scope: `ListAccountAssignments|${accountId}|${set.permissionSetArn}`,
  });
  return {
    AccountAssignments: page.map((a) => ({
      AccountId: a.accountId,
      PermissionSetArn: a.permissionSetArn,
      PrincipalType: a.principalType,
      PrincipalId: a.principalId,
    })),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
};

// Real callers look one principal up with this: its result does not shift when other principals'
// assignments come and go between pages, unlike ListAccountAssignments over a busy set.
const listAccountAssignmentsForPrincipal: JsonHandler = (input, ctx) => {
  const instance = requireInstance(input, ctx);
  const principalId = requiredString(input, "PrincipalId", PRINCIPAL_ID);
  const principalType = requiredEnum(input, "PrincipalType", ["USER", "GROUP"]);
  const filter = optionalObject(input, "Filter");
  const accountId =
    filter?.AccountId === undefined ? undefined : requiredString(filter, "AccountId", ACCOUNT_ID);
  const limit = maxResults(input);
  const matching = [...ctx.state.assignments.values()].filter(
    (a) =>
      a.principalId === principalId &&
      a.principalType === principalType &&
      (accountId === undefined || a.accountId === accountId),
  );
  const { page, nextToken } = paginate(matching, {
    maxResults: limit,
    nextToken: optionalString(input, "NextToken"),
    scope: `ListAccountAssignmentsForPrincipal|${instance.instanceArn}|${principalType}|${principalId}|${accountId ?? ""}`,
  });
  return {
    AccountAssignments: page.map((a) => ({
      AccountId: a.accountId,
      PermissionSetArn: a.permissionSetArn,
      PrincipalType: a.principalType,
      PrincipalId: a.principalId,
    })),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
};

export const ssoAdminOperations: Readonly<Record<string, JsonHandler>> = {
  ListInstances: listInstances,
  ListPermissionSets: listPermissionSets,
  DescribePermissionSet: describePermissionSet,
  CreateAccountAssignment: createAccountAssignment,
  DeleteAccountAssignment: deleteAccountAssignment,
  DescribeAccountAssignmentCreationStatus: describeStatus(
    "creation",
    "AccountAssignmentCreationRequestId",
    "AccountAssignmentCreationStatus",
  ),
  DescribeAccountAssignmentDeletionStatus: describeStatus(
    "deletion",
    "AccountAssignmentDeletionRequestId",
    "AccountAssignmentDeletionStatus",
  ),
  ListAccountAssignments: listAccountAssignments,
  ListAccountAssignmentsForPrincipal: listAccountAssignmentsForPrincipal,
  ListAccountAssignmentCreationStatus: listStatus("creation", "AccountAssignmentsCreationStatus"),
  ListAccountAssignmentDeletionStatus: listStatus("deletion", "AccountAssignmentsDeletionStatus"),
};
