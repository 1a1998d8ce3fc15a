import { randomUUID } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@keyturn/db";
import { type AwsEmulator, startAwsEmulator } from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import { type SlackFake, startSlackFake } from "@keyturn/testkit/slack-fake";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveRequest, flowRules, putTestFlow, useCaseDeps } from "./testing/access-world.js";
import { type ChildWorker, endChildWorkerTest, startChildWorker } from "./testing/child-worker.js";
import { eventually } from "./worker-harness.js";

// The worker as deployed (src/main.ts in a process of its own, configured by its environment),
// posting to the fake Slack and provisioning in the AWS emulator: its /metrics after a lifecycle
// counts every AWS call attempt and every failed Slack call, which proves main.ts wires the
// adapters' observers into the registry it serves.

const database = useTestDatabase();
const prefix = `kt-metrics-${randomUUID().slice(0, 8)}`;
let emulator: AwsEmulator;
let slack: SlackFake;
let db: PrismaClient;
let worker: ChildWorker;

beforeAll(async () => {
  emulator = await startAwsEmulator({ assignmentDelayMs: 20 });
  emulator.seed(standardSeed());
  slack = await startSlackFake();
  slack.addUser({ id: "U0ALICE", name: "alice", email: "alice@example.com" });
  slack.addUser({ id: "U0ANN", name: "ann", email: "ann@example.com" });
  slack.addChannel({ id: "C0OPS", name: "access", members: ["U0ANN"] });
  db = createPrismaClient({ databaseUrl: database.url });
  await putTestFlow(useCaseDeps(db), "s3", flowRules({ approvalChannel: "C0OPS" }));
  worker = await startChildWorker({
    databaseUrl: database.url,
    emulator,
    prefix,
    env: {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.url,
      AWS_ACCESS_PORTAL_URL: "https://d-0123456789.awsapps.com/start",
    },
  });
});

afterAll(async () => {
  await endChildWorkerTest(prefix);
  await db?.$disconnect();
  await slack?.close();
  await emulator?.close();
});

/** The value of one series in Prometheus' text format, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const scrape = async () => (await fetch(`${worker.healthUrl}/metrics`)).text();

describe("the worker's /metrics", () => {
  it("counts AWS calls by operation and outcome, retried attempts included, and Slack API errors", async () => {
    emulator.faults.failNext({ operation: "CreateAccountAssignment", code: "ThrottlingException" });
    slack.failNext("chat.postMessage", { error: "not_in_channel" });

    const id = await approveRequest(useCaseDeps(db), { flowName: "s3", email: "alice@example.com" });
    await eventually(async () => {
      const row = await db.accessRequest.findUniqueOrThrow({ where: { id } });
      return row.status === "active";
    });

    const creates = emulator.callLog().filter((c) => c.operation === "CreateAccountAssignment");
    expect(creates.map((c) => c.outcome)).toEqual(["ThrottlingException", "ok"]);
    const create = (outcome: string) =>
      `keyturn_aws_calls_total{service="sso-admin",operation="CreateAccountAssignment",outcome="${outcome}"}`;
    // The worker counts an attempt once its answer is in; the emulator logs it before answering.
    const text = await eventually(async () => {
      const scraped = await scrape();
      return (sample(scraped, create("ok")) ?? 0) >= 1 ? scraped : undefined;
    });
    expect(sample(text, create("ok"))).toBe(1);
    expect(sample(text, create("ThrottlingException"))).toBe(1);
    expect(
      sample(
        text,
        'keyturn_aws_call_duration_seconds_count{service="sso-admin",operation="CreateAccountAssignment"}',
      ),
    ).toBe(2);
    // The requester was looked up in the Identity Store, which is a service of its own.
    expect(
      sample(text, 'keyturn_aws_calls_total{service="identitystore",operation="GetUserId",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(1);

    const refused = await slack.waitForCall("chat.postMessage", (call) => call.response.ok === false);
    expect(refused.response.error).toBe("not_in_channel");
    const errors = await eventually(async () =>
      sample(
        await scrape(),
        'keyturn_slack_api_errors_total{method="chat.postMessage",error="not_in_channel"}',
      ),
    );
    expect(errors).toBe(1);
  });
});
