import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetRoleCredentialsCommand, SSOClient } from "@aws-sdk/client-sso";
import { createSlackClient, DEMO_ACCOUNT_ID, DEMO_ADMIN_ACCESS_KEY_ID } from "@keyturn/testkit";
import { cliDemoSteps, type DemoStep } from "./cli-demo.js";
import type { LocalContext } from "./main.js";
import { until } from "./processes.js";

const MODAL = {
  blocks: { flow: "flow", duration: "duration", reason: "reason", ticket: "ticket" },
  actions: {
    flow: "request_form.choose_flow",
    duration: "request_form.duration",
    reason: "request_form.reason",
    ticket: "request_form.ticket",
  },
} as const;
const APPROVE = "request.approve";
const BUCKET = "keyturn-demo-data";

type Step = DemoStep;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

/**
 * The story Keyturn exists for, played through the real HTTP surfaces: Slack (signed requests to
 * the Slack app, the fake Slack Web API it answers through), the admin API, the AWS emulator's
 * Identity Center, SSO portal and S3 with the generated bucket policy.
 */
export async function runDemo(context: LocalContext): Promise<boolean> {
  const { fakeSlack, emulator, log } = context;
  const seconds = context.demoSeconds;
  if (fakeSlack === null || emulator === null) {
    log("--demo needs the local AWS emulator and fake Slack (unset AWS_* and SLACK_BOT_TOKEN)");
    return false;
  }
  const slack = createSlackClient({
    appUrl: context.slackUrl,
    signingSecret: context.signingSecret,
    fake: fakeSlack,
  });
  const api = async (path: string) => {
    const response = await fetch(`${context.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${context.token}` },
    });
    return (await response.json()) as {
      items: Array<{ id: string; state: string; expiresAt?: string | null }>;
    };
  };
  const aliceRequest = async (flow = "s3-demo") =>
    (await api(`/v1/requests?requester=alice@example.com&flow=${flow}`)).items[0];
  const select = (value: string) => ({
    type: "static_select",
    selected_option: { text: { type: "plain_text", text: value }, value },
  });
  const text = (value: string | null) => ({ type: "plain_text_input", value });
  let session: S3Client | undefined;
  let approvalTs = "";
  // When alice's access ends: a step that reaches S3 after it (a machine busy elsewhere) must say
  // so, not report a refusal as if Keyturn had cut her off early.
  let activeUntil = Number.POSITIVE_INFINITY;
  const s3 = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new S3Client({
      endpoint: emulator.endpoint,
      region: emulator.region,
      forcePathStyle: true,
      credentials,
      maxAttempts: 1,
    });
  const admin = s3({ accessKeyId: DEMO_ADMIN_ACCESS_KEY_ID, secretAccessKey: "demo" });
  const portal = new SSOClient({ endpoint: emulator.endpoint, region: emulator.region, maxAttempts: 1 });
  const signInAlice = async () => {
    const { accessToken } = emulator.signIn("alice");
    return portal.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: DEMO_ACCOUNT_ID, roleName: "S3Access" }),
    );
  };
  const writeAndRead = async () => {
    const credentials = (await signInAlice()).roleCredentials;
    session = s3({
      accessKeyId: credentials?.accessKeyId ?? "",
      secretAccessKey: credentials?.secretAccessKey ?? "",
      ...(credentials?.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    });
    await session.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "notes/inc-7.txt",
        Body: "found it",
        ServerSideEncryption: "aws:kms",
      }),
    );
    const read = await session.send(new GetObjectCommand({ Bucket: BUCKET, Key: "notes/inc-7.txt" }));
    return `wrote and read back "${await read.Body?.transformToString()}" (KMS-encrypted upload)`;
  };

  const steps: Step[] = [
    {
      title: `Alice types \`/access s3-demo ${seconds}s INC-7 look at the demo data\` in Slack`,
      async run() {
        const triggerId = fakeSlack.newTriggerId("U0ALICE");
        const delivery = await slack.slashCommand({
          command: "/access",
          userId: "U0ALICE",
          text: `s3-demo ${seconds}s INC-7 look at the demo data`,
          triggerId,
        });
        await fakeSlack.waitForCall("views.open", (c) => c.args.trigger_id === triggerId, 10_000);
        return `acknowledged in ${Math.round(delivery.latencyMs)} ms; the request modal opened`;
      },
    },
    {
      title: "She submits the modal",
      async run() {
        const view = fakeSlack.views("U0ALICE").at(-1);
        if (view === undefined) {
          throw new Error("no modal");
        }
        await slack.viewSubmission({
          userId: "U0ALICE",
          view: {
            id: view.id,
            state: {
              values: {
                [MODAL.blocks.flow]: { [MODAL.actions.flow]: select("s3-demo") },
                [MODAL.blocks.duration]: { [MODAL.actions.duration]: select(String(seconds)) },
                [MODAL.blocks.reason]: { [MODAL.actions.reason]: text("INC-7 look at the demo data") },
                [MODAL.blocks.ticket]: { [MODAL.actions.ticket]: text(null) },
              },
            },
          },
        });
        const posted = await fakeSlack.waitForCall(
          "chat.postMessage",
          (c) => c.args.channel === "C0KEYTURN",
          20_000,
        );
        approvalTs = String(posted.response.ts);
        return "the request is pending; its approval message with Approve/Deny is in #access-requests";
      },
    },
    {
      title: "Bob clicks Approve",
      async run() {
        await slack.blockAction({
          userId: "U0BOB",
          actionId: APPROVE,
          channelId: "C0KEYTURN",
          messageTs: approvalTs,
        });
        const request = await until(
          "the request to become active",
          async () => {
            const r = await aliceRequest();
            return r?.state === "active" ? r : undefined;
          },
          30_000,
        );
        activeUntil = Date.parse(request.expiresAt ?? "") || activeUntil;
        const principal = emulator.assignments().find((a) => a.accountId === DEMO_ACCOUNT_ID);
        if (principal === undefined) {
          throw new Error("no assignment in Identity Center");
        }
        return `active until ${request.expiresAt}; Identity Center holds the S3Access assignment`;
      },
    },
    {
      title: "Alice gets a DM telling her how to use it",
      async run() {
        const dm = await fakeSlack.waitForCall(
          "chat.postMessage",
          (c) =>
            c.args.channel === fakeSlack.dmChannelId("U0ALICE") &&
            JSON.stringify(c.args).includes("sso_account_id"),
          20_000,
        );
        return `DM with the access portal link and a CLI profile (${JSON.stringify(dm.args).includes("awsapps.com") ? "portal link present" : "no portal link"})`;
      },
    },
    {
      title: "Alice signs in through the SSO portal and writes and reads the protected data",
      async run() {
        try {
          return await writeAndRead();
        } catch (error) {
          if (Date.now() >= activeUntil) {
            throw new Error(
              `this step reached S3 after alice's ${seconds} s of access had ended (the machine is busy): run the demo with a larger KEYTURN_DEMO_SECONDS`,
              { cause: error },
            );
          }
          throw error;
        }
      },
    },
    {
      title: "An administrator with AdministratorAccess tries to read it",
      async run() {
        try {
          await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: "notes/inc-7.txt" }));
        } catch (error) {
          if (errorName(error) === "AccessDenied") {
            return `refused: ${error instanceof Error ? error.message : ""}`;
          }
          throw error;
        }
        throw new Error("the administrator could read the data");
      },
    },
    {
      title: `${seconds} seconds later the access expires`,
      async run() {
        const started = Date.now();
        const request = await until(
          "the request to expire",
          async () => {
            const r = await aliceRequest();
            return r?.state === "expired" ? r : undefined;
          },
          seconds * 1000 + 40_000,
        );
        if (emulator.assignments().some((a) => a.accountId === DEMO_ACCOUNT_ID)) {
          throw new Error("the assignment is still in Identity Center");
        }
        return `expired (${request.id.slice(0, 8)}), assignment removed ${Math.round((Date.now() - started) / 1000)} s after we started waiting`;
      },
    },
    {
      title: "Access is gone, even for her still-valid session",
      async run() {
        const portalRefusal = await signInAlice().then(
          () => "still issued credentials",
          (error: unknown) => errorName(error),
        );
        if (portalRefusal !== "ForbiddenException") {
          throw new Error(`the portal ${portalRefusal}`);
        }
        const reused = await until(
          "the old session to be refused",
          async () => {
            try {
              await session?.send(new GetObjectCommand({ Bucket: BUCKET, Key: "notes/inc-7.txt" }));
              return undefined;
            } catch (error) {
              return errorName(error) === "AccessDenied"
                ? error instanceof Error
                  ? error.message
                  : "AccessDenied"
                : undefined;
            }
          },
          20_000,
        );
        return `the portal refuses new credentials, and the old session is refused: ${reused}`;
      },
    },
    {
      title: "Alice is on call in PagerDuty: she asks again and Keyturn approves her without Bob",
      async run() {
        if (context.onCallSchedule === null) {
          throw new Error("no local PagerDuty (PAGERDUTY_TOKEN is set in the shell)");
        }
        const triggerId = fakeSlack.newTriggerId("U0ALICE");
        await slack.slashCommand({
          command: "/access",
          userId: "U0ALICE",
          text: `s3-oncall ${seconds}s paged for the orders incident`,
          triggerId,
        });
        const opened = await fakeSlack.waitForCall(
          "views.open",
          (c) => c.args.trigger_id === triggerId,
          10_000,
        );
        const viewId = (opened.response.view as { id: string }).id;
        await slack.viewSubmission({
          userId: "U0ALICE",
          view: {
            id: viewId,
            state: {
              values: {
                [MODAL.blocks.flow]: { [MODAL.actions.flow]: select("s3-oncall") },
                [MODAL.blocks.duration]: { [MODAL.actions.duration]: select(String(seconds)) },
                [MODAL.blocks.reason]: { [MODAL.actions.reason]: text("paged for the orders incident") },
                [MODAL.blocks.ticket]: { [MODAL.actions.ticket]: text(null) },
              },
            },
          },
        });
        const request = await until(
          "Keyturn to approve and grant it",
          async () => {
            const r = await aliceRequest("s3-oncall");
            return r?.state === "active" ? r : undefined;
          },
          30_000,
        );
        const detail = (await api(`/v1/requests/${request.id}`)) as unknown as {
          reviews: unknown[];
          onCall: { note: string } | null;
        };
        if (detail.reviews.length > 0 || detail.onCall === null) {
          throw new Error("the request was not approved by the on-call check");
        }
        // Done with it: ended now, so the next run starts from a clean slate.
        const revoked = await fetch(`${context.apiUrl}/v1/requests/${request.id}/revoke`, {
          method: "POST",
          headers: { authorization: `Bearer ${context.token}`, "content-type": "application/json" },
          body: JSON.stringify({ asAdmin: true, reason: "demo over" }),
        });
        if (!revoked.ok) {
          throw new Error(`revoking it answered ${revoked.status}`);
        }
        return `${detail.onCall.note} (no review by Bob)`;
      },
    },
  ];

  // Then the same story from a terminal, through the keyturn CLI.
  const cli = await cliDemoSteps(context);
  steps.push(...cli.steps);

  let ok = true;
  for (const [index, step] of steps.entries()) {
    try {
      const outcome = await step.run();
      log(`\u001b[32m✓\u001b[0m ${index + 1}. ${step.title}\n      ${outcome}`);
    } catch (error) {
      ok = false;
      log(
        `\u001b[31m✗\u001b[0m ${index + 1}. ${step.title}\n      ${error instanceof Error ? error.message : String(error)}`,
      );
      break;
    }
  }
  await cli.cleanUp();
  log(ok ? "demo passed: every step held" : "demo FAILED");
  return ok;
}
