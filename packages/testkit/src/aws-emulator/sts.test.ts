import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsEmulator } from "./server.js";
import { ACCOUNT, caught } from "./test-helpers.js";
import type { AwsEmulator } from "./types.js";

// STS GetCallerIdentity over the real @aws-sdk/client-sts (awsQuery: form-encoded POST, XML).
// STS API Reference, GetCallerIdentity: for a role's credentials the Arn is the assumed-role
// session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), UserId is "ROLEID:SESSION".

describe("STS GetCallerIdentity", () => {
  let emulator: AwsEmulator;
  const clients: STSClient[] = [];
  const sts = (accessKeyId: string) => {
    const client = new STSClient({
      region: "eu-west-1",
      endpoint: emulator.endpoint,
      credentials: { accessKeyId, secretAccessKey: "x" },
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    emulator = await startAwsEmulator({ seed: 9 });
    emulator.seed({
      accounts: [ACCOUNT],
      callers: [
        {
          accessKeyId: "AKIAKEYTURNSTSTEST01",
          roleArn: `arn:aws:iam::${ACCOUNT}:role/service/Keyturn`,
          accountId: ACCOUNT,
          roleId: "AROAKEYTURNEXAMPLE01",
          sessionName: "keyturn-worker",
        },
      ],
    });
  });
  afterAll(async () => {
    for (const client of clients) {
      client.destroy();
    }
    await emulator.close();
  });

  it("answers the session ARN (no role path), the user id and the account", async () => {
    const output = await sts("AKIAKEYTURNSTSTEST01").send(new GetCallerIdentityCommand({}));
    expect(output).toMatchObject({
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Keyturn/keyturn-worker`,
      UserId: "AROAKEYTURNEXAMPLE01:keyturn-worker",
      Account: ACCOUNT,
    });
    expect(output.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(emulator.callLog().at(-1)).toMatchObject({
      service: "sts",
      operation: "GetCallerIdentity",
      outcome: "ok",
    });
  });

  it("refuses an unknown access key as STS does (InvalidClientTokenId, 403)", async () => {
    const error = await caught(sts("AKIANOBODYEXAMPLE001").send(new GetCallerIdentityCommand({})));
    expect(error.name).toBe("InvalidClientTokenId");
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });
});
