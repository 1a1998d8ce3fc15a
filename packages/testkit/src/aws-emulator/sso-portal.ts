import type { EmulatorContext } from "./call.js";
import type { PermissionSet, User } from "./state.js";
import { AwsError, type JsonObject } from "./wire.js";

// The SSO portal (client-sso, restJson, no SigV4: the user's portal access token travels in the
// `x-amz-sso_bearer_token` header). Tokens come from `emulator.signIn(user)`. A session keeps
// working after its assignment (and even its role) is deleted, until it expires, as in AWS.

type PortalRequest = { query: URLSearchParams; accessToken: string | undefined };
type PortalHandler = (request: PortalRequest, ctx: EmulatorContext) => JsonObject;

const ROUTES: Readonly<Record<string, string>> = {
  "GET /federation/credentials": "GetRoleCredentials",
  "GET /assignment/accounts": "ListAccounts",
  "GET /assignment/roles": "ListAccountRoles",
  "POST /logout": "Logout",
};

export function portalOperation(method: string, pathname: string): string | undefined {
  return ROUTES[`${method} ${pathname}`];
}

function requireUser(request: PortalRequest, ctx: EmulatorContext): User {
  const user = request.accessToken === undefined ? undefined : ctx.state.portalUser(request.accessToken);
  if (user === undefined) {
    throw new AwsError("UnauthorizedException", "Session token not found or invalid", { status: 401 });
  }
  return user;
}

function requireQuery(request: PortalRequest, name: string): string {
  const value = request.query.get(name);
  if (value === null || value === "") {
    throw new AwsError("InvalidRequestException", `Missing required parameter ${name}`, { status: 400 });
  }
  return value;
}

/** Sets the user can use in an account, directly or through a group. */
function setsOf(ctx: EmulatorContext, user: User, accountId: string | undefined): PermissionSet[] {
  const { state } = ctx;
  const arns = new Set<string>();
  for (const assignment of state.assignments.values()) {
    if (accountId !== undefined && assignment.accountId !== accountId) {
      continue;
    }
    const holds =
      assignment.principalType === "USER"
        ? assignment.principalId === user.userId
        : (state.groups.get(assignment.principalId)?.memberIds.has(user.userId) ?? false);
    if (holds) {
      arns.add(assignment.permissionSetArn);
    }
  }
  return [...arns].flatMap((arn) => {
    const set = state.permissionSets.get(arn);
    return set === undefined ? [] : [set];
  });
}

const getRoleCredentials: PortalHandler = (request, ctx) => {
  const roleName = requireQuery(request, "role_name");
  const accountId = requireQuery(request, "account_id");
  const user = requireUser(request, ctx);
  const { state } = ctx;
  const set = setsOf(ctx, user, accountId).find((candidate) => candidate.name === roleName);
  const role = set === undefined ? undefined : state.roleFor(accountId, set.permissionSetArn);
  if (set === undefined || role === undefined) {
    throw new AwsError("ForbiddenException", "No access", { status: 403 });
  }
  const accessKeyId = `ASIA${state.ids.alnumUpper(16)}`;
  const secretAccessKey = state.ids.alnum(40);
  const sessionToken = state.ids.alnum(356);
  const expiration = state.now() + set.sessionDurationMs;
  state.callers.set(accessKeyId, {
    kind: "role",
    accessKeyId,
    secretAccessKey,
    sessionToken,
    roleArn: role.arn,
    accountId,
    roleId: role.roleId,
    sessionName: user.userName,
    identityStoreUserId: user.userId,
    expiresAt: expiration,
    // Whole seconds, as STS reports credential times: a policy's TokenIssueTime boundary must
    // then be a whole second too, or a session issued in the same second would fall either side.
    issuedAt: Math.floor(state.now() / 1000) * 1000,
    policies: set.policies,
  });
  return { roleCredentials: { accessKeyId, secretAccessKey, sessionToken, expiration } };
};

const listAccounts: PortalHandler = (request, ctx) => {
  const user = requireUser(request, ctx);
  const accountIds = new Set(
    [...ctx.state.assignments.values()]
      .filter((a) => setsOf(ctx, user, a.accountId).length > 0)
      .map((a) => a.accountId),
  );
  return {
    accountList: [...accountIds].map((accountId) => {
      const account = ctx.state.accounts.get(accountId);
      return { accountId, accountName: account?.name ?? accountId, emailAddress: account?.email ?? "" };
    }),
  };
};

const listAccountRoles: PortalHandler = (request, ctx) => {
  const accountId = requireQuery(request, "account_id");
  const user = requireUser(request, ctx);
  return { roleList: setsOf(ctx, user, accountId).map((set) => ({ roleName: set.name, accountId })) };
};

const logout: PortalHandler = (request, ctx) => {
  requireUser(request, ctx);
  if (request.accessToken !== undefined) {
    ctx.state.signOut(request.accessToken);
  }
  return {};
};

export const portalOperations: Readonly<Record<string, PortalHandler>> = {
  GetRoleCredentials: getRoleCredentials,
  ListAccounts: listAccounts,
  ListAccountRoles: listAccountRoles,
  Logout: logout,
};
