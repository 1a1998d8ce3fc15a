// `keyturn credentials` refusals that need no AWS: the built CLI against the real API. Whose grant
// it uses must be clear (a token that reads everyone's requests is refused), and without a grant
// it fails in one line. The AWS side (SSO cache, device flow, the SDK) is in apps/local's
// cli-requester test, against the whole stack.
import { testFlowRules } from "@keyturn/testkit";
import { useTestDatabase } from "@keyturn/testkit/database";
import { activateRequest } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "./testing/test-support.js";

const database = useTestDatabase();
let cli: CliHarness;
const SSO = ["--sso-start-url", "https://d-0123456789.awsapps.com/start", "--sso-region", "eu-west-1"];

async function api(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${cli.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return (await response.json()) as { id: string };
}

/** An active grant of `owner` through s3-data: filed with their own token, approved by Ann, activated. */
async function activeGrantOf(owner: string): Promise<void> {
  const mine = await cli.token(["requests:self"], { owner });
  const ann = await cli.token(["requests:write"], { owner: "ann@example.com" });
  const filed = await api(mine.token, "POST", "/v1/requests", { flow: "s3-data", reason: "INC-5" });
  await api(ann.token, "POST", `/v1/requests/${filed.id}/approve`, {});
  expect((await activateRequest(cli.usecases, { requestId: filed.id })).ok).toBe(true);
}

beforeAll(async () => {
  cli = await startCliHarness({ databaseUrl: database.url });
  await api(cli.adminToken, "PUT", "/v1/flows/s3-data", testFlowRules());
  await activeGrantOf("rita@example.com");
  await activeGrantOf("sam@example.com");
});
afterAll(async () => {
  await cli?.close();
});

describe("keyturn credentials", () => {
  it("refuses a token that reads several people's requests: whose grant would it be?", async () => {
    const result = await cli.run(["credentials", "s3-data", ...SSO]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "keyturn: this token sees the requests of 2 people; keyturn credentials needs your own: run 'keyturn login'\n",
    );
  });

  it("without a grant: one line saying how to get one, exit 1, nothing on stdout", async () => {
    const carol = await cli.token(["requests:self"], { owner: "carol@example.com" });
    const result = await cli.run(["credentials", "s3-data", ...SSO], { env: { KEYTURN_TOKEN: carol.token } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `keyturn: no active access through flow 's3-data': request it with 'keyturn request s3-data --reason "..." --wait'\n`,
    );
  });

  it("bad arguments are usage errors (exit 2) naming what is wrong", async () => {
    const noSso = await cli.run(["credentials", "s3-data"], {
      env: { KEYTURN_TOKEN: "unused-token-value-0000" },
    });
    expect(noSso.code).toBe(2);
    expect(noSso.stderr).toContain(
      "--sso-start-url (or KEYTURN_SSO_START_URL) must be your https AWS access portal URL",
    );
    const badFlow = await cli.run(["credentials", "../etc", ...SSO]);
    expect(badFlow.code).toBe(2);
    expect(badFlow.stderr).toContain("'../etc' is not a flow name");
  });
});
