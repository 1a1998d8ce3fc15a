import type { EmulatorContext } from "./call.js";
import { AwsError, type JsonObject } from "./wire.js";

// IAM Identity Center's OIDC service (client-sso-oidc, restJson, unsigned), the part the device
// authorization flow needs: RegisterClient (POST /client/register), StartDeviceAuthorization
// (POST /device_authorization) and CreateToken (POST /token, device_code grant). The user's
// approval in the browser is the admin hook `approveDevice(userCode, user)`: after it, the next
// CreateToken answers a portal access token for that user (the one GetRoleCredentials accepts).
// Errors are AWS's: {error, error_description} with the exception's name in x-amzn-ErrorType.

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** AWS registers public clients for 90 days. */
const CLIENT_LIFETIME_MS = 90 * 24 * 3600_000;
/** A device code is good for 10 minutes; polls no closer than 1 s apart. */
const DEVICE_CODE_LIFETIME_MS = 600_000;
const POLL_INTERVAL_S = 1;

type Client = { clientId: string; clientSecret: string; clientName: string; expiresAt: number };
type DeviceAuthorization = {
  deviceCode: string;
  userCode: string;
  clientId: string;
  startUrl: string;
  expiresAt: number;
  lastPollAt: number | undefined;
  decision: { kind: "approved"; user: string } | { kind: "denied" } | { kind: "redeemed" } | undefined;
};

export class OidcState {
  readonly clients = new Map<string, Client>();
  readonly devices = new Map<string, DeviceAuthorization>();

  /** The browser step: the user signs in and allows the device (or denies it). */
  decide(userCode: string, decision: { kind: "approved"; user: string } | { kind: "denied" }): void {
    const device = [...this.devices.values()].find((d) => d.userCode === userCode.toUpperCase());
    if (device === undefined) {
      throw new Error(`No device authorization with user code ${userCode}`);
    }
    if (device.decision !== undefined) {
      throw new Error(`Device authorization ${userCode} was already ${device.decision.kind}`);
    }
    device.decision = decision;
  }

  /** The user codes waiting for the browser step (newest last), for tests and the demo. */
  pending(): Array<{ userCode: string; startUrl: string; clientId: string }> {
    return [...this.devices.values()]
      .filter((d) => d.decision === undefined)
      .map(({ userCode, startUrl, clientId }) => ({ userCode, startUrl, clientId }));
  }
}

const ROUTES: Readonly<Record<string, string>> = {
  "POST /client/register": "RegisterClient",
  "POST /device_authorization": "StartDeviceAuthorization",
  "POST /token": "CreateToken",
};

export function oidcOperation(method: string, pathname: string): string | undefined {
  return ROUTES[`${method} ${pathname}`];
}

function oauthError(code: string, error: string, description: string, status = 400): AwsError {
  return new AwsError(code, description, { status, fields: { error, error_description: description } });
}

function requireString(input: JsonObject, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") {
    throw oauthError("InvalidRequestException", "invalid_request", `Missing required parameter ${name}`);
  }
  return value;
}

function requireClient(oidc: OidcState, input: JsonObject, now: number): Client {
  const clientId = requireString(input, "clientId");
  const clientSecret = requireString(input, "clientSecret");
  const client = oidc.clients.get(clientId);
  if (client === undefined || client.clientSecret !== clientSecret) {
    throw oauthError("InvalidClientException", "invalid_client", "Invalid client credentials", 401);
  }
  if (client.expiresAt <= now) {
    throw oauthError("InvalidClientException", "invalid_client", "Client registration has expired", 401);
  }
  return client;
}

type OidcHandler = (input: JsonObject, ctx: EmulatorContext, oidc: OidcState) => JsonObject;

const registerClient: OidcHandler = (input, ctx, oidc) => {
  const clientName = requireString(input, "clientName");
  const clientType = requireString(input, "clientType");
  if (clientType !== "public") {
    throw oauthError(
      "InvalidClientMetadataException",
      "invalid_client_metadata",
      "clientType must be public",
    );
  }
  const now = ctx.state.now();
  const clientId = ctx.state.ids.alnum(22);
  const clientSecret = `eyJ${ctx.state.ids.alnum(120)}`;
  const client = { clientId, clientSecret, clientName, expiresAt: now + CLIENT_LIFETIME_MS };
  oidc.clients.set(clientId, client);
  return {
    clientId,
    clientSecret,
    clientIdIssuedAt: Math.floor(now / 1000),
    clientSecretExpiresAt: Math.floor(client.expiresAt / 1000),
  };
};

const startDeviceAuthorization: OidcHandler = (input, ctx, oidc) => {
  const now = ctx.state.now();
  const client = requireClient(oidc, input, now);
  const startUrl = requireString(input, "startUrl");
  const deviceCode = ctx.state.ids.alnum(64);
  const userCode = `${ctx.state.ids.alnumUpper(4)}-${ctx.state.ids.alnumUpper(4)}`;
  oidc.devices.set(deviceCode, {
    deviceCode,
    userCode,
    clientId: client.clientId,
    startUrl,
    expiresAt: now + DEVICE_CODE_LIFETIME_MS,
    lastPollAt: undefined,
    decision: undefined,
  });
  const verificationUri = `${startUrl.replace(/\/+$/, "")}/#/device`;
  return {
    deviceCode,
    userCode,
    verificationUri,
    verificationUriComplete: `${verificationUri}?user_code=${userCode}`,
    expiresIn: DEVICE_CODE_LIFETIME_MS / 1000,
    interval: POLL_INTERVAL_S,
  };
};

const createToken: OidcHandler = (input, ctx, oidc) => {
  const now = ctx.state.now();
  const client = requireClient(oidc, input, now);
  const grantType = requireString(input, "grantType");
  if (grantType !== DEVICE_GRANT) {
    throw oauthError(
      "UnsupportedGrantTypeException",
      "unsupported_grant_type",
      `Grant type ${grantType} is not supported`,
    );
  }
  const device = oidc.devices.get(requireString(input, "deviceCode"));
  if (device === undefined || device.clientId !== client.clientId) {
    throw oauthError("InvalidGrantException", "invalid_grant", "Invalid device code provided");
  }
  if (device.expiresAt <= now) {
    throw oauthError("ExpiredTokenException", "expired_token", "Device code has expired");
  }
  const last = device.lastPollAt;
  device.lastPollAt = now;
  const decision = device.decision;
  if (decision === undefined) {
    if (last !== undefined && now - last < POLL_INTERVAL_S * 1000) {
      throw oauthError("SlowDownException", "slow_down", "Client is polling too frequently");
    }
    throw oauthError(
      "AuthorizationPendingException",
      "authorization_pending",
      "Authorization is still pending",
    );
  }
  switch (decision.kind) {
    case "denied":
      throw oauthError("AccessDeniedException", "access_denied", "The user denied the authorization request");
    case "redeemed":
      throw oauthError("InvalidGrantException", "invalid_grant", "Device code has already been used");
    case "approved": {
      const session = ctx.state.signIn(decision.user);
      device.decision = { kind: "redeemed" };
      return {
        accessToken: session.accessToken,
        tokenType: "Bearer",
        expiresIn: Math.floor((session.expiresAt - now) / 1000),
      };
    }
  }
};

export const oidcOperations: Readonly<Record<string, OidcHandler>> = {
  RegisterClient: registerClient,
  StartDeviceAuthorization: startDeviceAuthorization,
  CreateToken: createToken,
};
