import { ListAccountsCommand } from "@aws-sdk/client-sso";
import {
  AccessDeniedException,
  AuthorizationPendingException,
  CreateTokenCommand,
  ExpiredTokenException,
  InvalidClientException,
  InvalidGrantException,
  RegisterClientCommand,
  SlowDownException,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from "@aws-sdk/client-sso-oidc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import { caught, portalClient, standardSeed } from "./test-helpers.js";
import type { AwsEmulator } from "./types.js";

// The SSO OIDC device flow on the real wire: the real @aws-sdk/client-sso-oidc registers a client,
// starts a device authorization, polls CreateToken (pending, slow down), the user approves "in the
// browser" (the admin hook), and the token it gets is a portal token the real client-sso accepts.

const START_URL = "https://keyturn-demo.awsapps.com/start";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

describe("SSO OIDC device authorization", () => {
  let clock = Date.parse("2030-01-01T00:00:00.000Z");
  let emulator: AwsEmulator;
  let oidc: SSOOIDCClient;

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 9, assignmentDelayMs: 0, now: () => clock });
    emulator.seed(standardSeed());
    oidc = new SSOOIDCClient({ endpoint: emulator.endpoint, region: emulator.region, maxAttempts: 1 });
  });
  afterAll(async () => {
    oidc.destroy();
    await emulator.close();
  });

  async function startDevice() {
    const client = await oidc.send(
      new RegisterClientCommand({ clientName: "keyturn-cli", clientType: "public" }),
    );
    const clientId = client.clientId ?? "";
    const clientSecret = client.clientSecret ?? "";
    const device = await oidc.send(
      new StartDeviceAuthorizationCommand({ clientId, clientSecret, startUrl: START_URL }),
    );
    const poll = () =>
      oidc.send(
        new CreateTokenCommand({
          clientId,
          clientSecret,
          grantType: DEVICE_GRANT,
          deviceCode: device.deviceCode,
        }),
      );
    return { client, device, poll };
  }

  it("registers a client, starts a device authorization, and hands out a portal token once approved", async () => {
    const { client, device, poll } = await startDevice();
    expect(client.clientSecretExpiresAt).toBeGreaterThan(Math.floor(clock / 1000));
    expect(device).toMatchObject({
      userCode: expect.stringMatching(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/),
      verificationUri: `${START_URL}/#/device`,
      expiresIn: 600,
      interval: 1,
    });
    expect(device.verificationUriComplete).toContain(device.userCode ?? "?");
    expect(emulator.pendingDevices().map((d) => d.userCode)).toContain(device.userCode);

    const pending = await caught(poll());
    expect(pending).toBeInstanceOf(AuthorizationPendingException);
    expect((pending as AuthorizationPendingException).error).toBe("authorization_pending");
    // Polling again within the interval is slow_down.
    expect(await caught(poll())).toBeInstanceOf(SlowDownException);

    emulator.approveDevice(device.userCode ?? "", "alice");
    clock += 1_000;
    const token = await poll();
    expect(token.tokenType).toBe("Bearer");
    expect(token.expiresIn).toBeGreaterThan(3600);
    const accounts = await portalClient(emulator).send(
      new ListAccountsCommand({ accessToken: token.accessToken }),
    );
    expect(accounts.accountList).toBeDefined();

    clock += 1_000;
    expect(await caught(poll())).toBeInstanceOf(InvalidGrantException);
  });

  it("answers access denied when the user refuses, expired_token after 10 minutes, invalid_client for a bad secret", async () => {
    const denied = await startDevice();
    emulator.denyDevice(denied.device.userCode ?? "");
    expect(await caught(denied.poll())).toBeInstanceOf(AccessDeniedException);

    const late = await startDevice();
    clock += 600_001;
    const expired = await caught(late.poll());
    expect(expired).toBeInstanceOf(ExpiredTokenException);
    expect(expired.$metadata?.httpStatusCode).toBe(400);

    const bad = await caught(
      oidc.send(
        new StartDeviceAuthorizationCommand({
          clientId: denied.client.clientId,
          clientSecret: "not-the-secret",
          startUrl: START_URL,
        }),
      ),
    );
    expect(bad).toBeInstanceOf(InvalidClientException);
    expect(bad.$metadata?.httpStatusCode).toBe(401);
  });

  it("is approved through the admin endpoint, as a demo or another process does", async () => {
    const { device, poll } = await startDevice();
    const refused = await fetch(`${emulator.endpoint}/_emulator/device-authorizations`, {
      method: "POST",
      body: JSON.stringify({ userCode: device.userCode, decision: "approve" }),
    });
    expect(refused.status).toBe(400);
    const approved = await fetch(`${emulator.endpoint}/_emulator/device-authorizations`, {
      method: "POST",
      body: JSON.stringify({ userCode: device.userCode, decision: "approve", user: "bob" }),
    });
    expect(approved.status).toBe(200);
    clock += 1_000;
    expect((await poll()).accessToken).toMatch(/^aoa/);
  });
});
