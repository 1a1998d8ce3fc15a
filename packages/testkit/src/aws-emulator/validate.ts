import { AwsError, isObject, type JsonObject } from "./wire.js";

// Input checks for the awsJson1_1 services, with AWS's own message shape, so that a client sees
// a ValidationException where AWS would send one (the SDK does not check required members).

export const INSTANCE_ARN = /^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/;
export const PERMISSION_SET_ARN = /^arn:aws:sso:::permissionSet\/ssoins-[0-9a-f]{16}\/ps-[0-9a-f]{16}$/;
export const ACCOUNT_ID = /^\d{12}$/;
export const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const IDENTITY_STORE_ID =
  /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
export const PRINCIPAL_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;

function memberName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

export function validationError(message: string): AwsError {
  return new AwsError("ValidationException", message);
}

function constraintError(member: string, value: unknown, constraint: string): AwsError {
  const shown = value === undefined || value === null ? "null" : `'${String(value)}'`;
  return validationError(
    `1 validation error detected: Value ${shown} at '${memberName(member)}' failed to satisfy constraint: ${constraint}`,
  );
}

export function requiredString(input: JsonObject, member: string, pattern?: RegExp): string {
  const value = input[member];
  if (value === undefined || value === null) {
    throw constraintError(member, value, "Member must not be null");
  }
  if (typeof value !== "string") {
    throw new AwsError("SerializationException", `Expected a string for ${member}`);
  }
  if (pattern !== undefined && !pattern.test(value)) {
    throw constraintError(member, value, `Member must satisfy regular expression pattern: ${pattern.source}`);
  }
  return value;
}

export function optionalString(input: JsonObject, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "string") {
    throw new AwsError("SerializationException", `Expected a string for ${member}`);
  }
  return value;
}

export function requiredEnum<const T extends string>(
  input: JsonObject,
  member: string,
  values: readonly T[],
): T {
  const value = requiredString(input, member);
  const found = values.find((candidate) => candidate === value);
  if (found === undefined) {
    throw constraintError(member, value, `Member must satisfy enum value set: [${values.join(", ")}]`);
  }
  return found;
}

export function optionalObject(input: JsonObject, member: string): JsonObject | undefined {
  const value = input[member];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!isObject(value)) {
    throw new AwsError("SerializationException", `Expected an object for ${member}`);
  }
  return value;
}

export function maxResults(input: JsonObject, member = "MaxResults", max = 100): number {
  const value = input[member];
  if (value === undefined || value === null) {
    return max;
  }
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new AwsError("SerializationException", `Expected an integer for ${member}`);
  }
  if (value < 1 || value > max) {
    const bound = value < 1 ? "greater than or equal to 1" : `less than or equal to ${max}`;
    throw constraintError(member, value, `Member must have value ${bound}`);
  }
  return value;
}

/**
 * Offset paging with an opaque token bound to the query (`scope`), so that a token replayed
 * against another query is rejected as AWS does.
 */
export function paginate<T>(
  items: readonly T[],
  options: { maxResults: number; nextToken: string | undefined; scope: string },
): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (options.nextToken !== undefined) {
    offset = decodeToken(options.nextToken, options.scope);
  }
  const page = items.slice(offset, offset + options.maxResults);
  const end = offset + page.length;
  if (end < items.length) {
    return {
      page,
      nextToken: Buffer.from(JSON.stringify({ s: options.scope, o: end })).toString("base64url"),
    };
  }
  return { page };
}

function decodeToken(token: string, scope: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (isObject(parsed) && parsed.s === scope && typeof parsed.o === "number" && parsed.o >= 0) {
      return parsed.o;
    }
  } catch {
    // Fall through: any undecodable token is invalid.
  }
  throw validationError("The NextToken is invalid or does not belong to this query.");
}
