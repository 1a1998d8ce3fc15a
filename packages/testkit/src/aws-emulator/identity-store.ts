import type { EmulatorContext, JsonHandler } from "./call.js";
import type { Group, Instance, User } from "./state.js";
import {
  IDENTITY_STORE_ID,
  maxResults,
  optionalString,
  PRINCIPAL_ID,
  paginate,
  requiredString,
  validationError,
} from "./validate.js";
import { AwsError, epochSeconds, isObject, type JsonObject } from "./wire.js";

// Identity Store (X-Amz-Target: AWSIdentityStore.<Op>). Lookups compare user names, emails and
// group names case-insensitively. When two users share an email, GetUserId returns the first one
// seeded, as AWS returns one match without reporting the ambiguity.

function resourceNotFound(resourceType: string, resourceId: string | undefined, message: string): AwsError {
  return new AwsError("ResourceNotFoundException", message, {
    fields: { ResourceType: resourceType, ...(resourceId === undefined ? {} : { ResourceId: resourceId }) },
  });
}

function requireStore(input: JsonObject, ctx: EmulatorContext): Instance {
  const storeId = requiredString(input, "IdentityStoreId", IDENTITY_STORE_ID);
  const instance = ctx.state.instance;
  if (instance === undefined || instance.identityStoreId !== storeId) {
    throw resourceNotFound("IDENTITY_STORE", storeId, `Identity store ${storeId} does not exist.`);
  }
  return instance;
}

function userJson(user: User, storeId: string): JsonObject {
  const name =
    user.givenName === undefined && user.familyName === undefined
      ? undefined
      : {
          ...(user.givenName === undefined ? {} : { GivenName: user.givenName }),
          ...(user.familyName === undefined ? {} : { FamilyName: user.familyName }),
          Formatted: [user.givenName, user.familyName].filter((part) => part !== undefined).join(" "),
        };
  return {
    IdentityStoreId: storeId,
    UserId: user.userId,
    UserName: user.userName,
    ...(name === undefined ? {} : { Name: name }),
    DisplayName: user.displayName,
    Emails: user.emails.map((value, index) => ({ Value: value, Type: "work", Primary: index === 0 })),
    CreatedAt: epochSeconds(user.createdAt),
    UpdatedAt: epochSeconds(user.createdAt),
  };
}

function groupJson(group: Group, storeId: string): JsonObject {
  return {
    IdentityStoreId: storeId,
    GroupId: group.groupId,
    DisplayName: group.displayName,
    ...(group.description === undefined ? {} : { Description: group.description }),
    CreatedAt: epochSeconds(group.createdAt),
    UpdatedAt: epochSeconds(group.createdAt),
  };
}

/** AlternateIdentifier.UniqueAttribute as (lower-cased path, string value). */
function readUniqueAttribute(input: JsonObject, kind: "USER" | "GROUP"): { path: string; value: string } {
  const alternate = input.AlternateIdentifier;
  if (!isObject(alternate)) {
    throw validationError(
      "1 validation error detected: Value null at 'alternateIdentifier' failed to satisfy constraint: Member must not be null",
    );
  }
  if (isObject(alternate.ExternalId)) {
    // Nothing in the emulator carries external ids, so such a lookup finds nothing.
    throw resourceNotFound(kind, undefined, `${kind} not found.`);
  }
  const unique = alternate.UniqueAttribute;
  if (!isObject(unique)) {
    throw validationError("AlternateIdentifier must set exactly one of ExternalId or UniqueAttribute.");
  }
  const path = typeof unique.AttributePath === "string" ? unique.AttributePath : undefined;
  if (path === undefined) {
    throw validationError("UniqueAttribute.AttributePath is required.");
  }
  if (typeof unique.AttributeValue !== "string") {
    throw validationError("UniqueAttribute.AttributeValue must be a string for this attribute path.");
  }
  return { path: path.toLowerCase(), value: unique.AttributeValue.toLowerCase() };
}

const getUserId: JsonHandler = (input, ctx) => {
  const instance = requireStore(input, ctx);
  const { path, value } = readUniqueAttribute(input, "USER");
  let match: (user: User) => boolean;
  if (path === "username") {
    match = (user) => user.userName.toLowerCase() === value;
  } else if (path === "emails.value") {
    match = (user) => user.emails.some((email) => email.toLowerCase() === value);
  } else {
    throw validationError(`Invalid attribute path ${path}: use userName or emails.value.`);
  }
  const user = [...ctx.state.users.values()].find(match);
  if (user === undefined) {
    throw resourceNotFound("USER", undefined, "USER not found.");
  }
  return { IdentityStoreId: instance.identityStoreId, UserId: user.userId };
};

const describeUser: JsonHandler = (input, ctx) => {
  const instance = requireStore(input, ctx);
  const userId = requiredString(input, "UserId", PRINCIPAL_ID);
  const user = ctx.state.users.get(userId);
  if (user === undefined) {
    throw resourceNotFound("USER", userId, "USER not found.");
  }
  return userJson(user, instance.identityStoreId);
};

/** The deprecated `Filters`: at most one, on a single attribute, exact (case-insensitive) match. */
function readFilter(input: JsonObject, attributePath: string): string | undefined {
  const filters = input.Filters;
  if (filters === undefined || filters === null) {
    return undefined;
  }
  if (!Array.isArray(filters) || filters.length > 1) {
    throw validationError("Filters accepts at most one filter.");
  }
  const filter: unknown = filters[0];
  if (filter === undefined) {
    return undefined;
  }
  if (
    !isObject(filter) ||
    typeof filter.AttributePath !== "string" ||
    filter.AttributePath.toLowerCase() !== attributePath.toLowerCase() ||
    typeof filter.AttributeValue !== "string"
  ) {
    throw validationError(
      `Filters supports only AttributePath ${attributePath} with a string AttributeValue.`,
    );
  }
  return filter.AttributeValue.toLowerCase();
}

const listUsers: JsonHandler = (input, ctx) => {
  const instance = requireStore(input, ctx);
  const limit = maxResults(input);
  const userName = readFilter(input, "UserName");
  const users = [...ctx.state.users.values()].filter(
    (user) => userName === undefined || user.userName.toLowerCase() === userName,
  );
  const { page, nextToken } = paginate(users, {
    maxResults: limit,
    nextToken: optionalString(input, "NextToken"),
    scope: `ListUsers|${userName ?? ""}`,
  });
  return {
    Users: page.map((user) => userJson(user, instance.identityStoreId)),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
};

const getGroupId: JsonHandler = (input, ctx) => {
  const instance = requireStore(input, ctx);
  const { path, value } = readUniqueAttribute(input, "GROUP");
  if (path !== "displayname") {
    throw validationError(`Invalid attribute path ${path}: use displayName.`);
  }
  const group = [...ctx.state.groups.values()].find((g) => g.displayName.toLowerCase() === value);
  if (group === undefined) {
    throw resourceNotFound("GROUP", undefined, "GROUP not found.");
  }
  return { IdentityStoreId: instance.identityStoreId, GroupId: group.groupId };
};

const describeGroup: JsonHandler = (input, ctx) => {
  const instance = requireStore(input, ctx);
  const groupId = requiredString(input, "GroupId", PRINCIPAL_ID);
  const group = ctx.state.groups.get(groupId);
  if (group === undefined) {
    throw resourceNotFound("GROUP", groupId, "GROUP not found.");
  }
  return groupJson(group, instance.identityStoreId);
};

const listGroups: JsonHandler = (input, ctx) => {
  const instance = requireStore(input, ctx);
  const limit = maxResults(input);
  const displayName = readFilter(input, "DisplayName");
  const groups = [...ctx.state.groups.values()].filter(
    (group) => displayName === undefined || group.displayName.toLowerCase() === displayName,
  );
  const { page, nextToken } = paginate(groups, {
    maxResults: limit,
    nextToken: optionalString(input, "NextToken"),
    scope: `ListGroups|${displayName ?? ""}`,
  });
  return {
    Groups: page.map((group) => groupJson(group, instance.identityStoreId)),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
};

export const identityStoreOperations: Readonly<Record<string, JsonHandler>> = {
  GetUserId: getUserId,
  DescribeUser: describeUser,
  ListUsers: listUsers,
  GetGroupId: getGroupId,
  DescribeGroup: describeGroup,
  ListGroups: listGroups,
};
