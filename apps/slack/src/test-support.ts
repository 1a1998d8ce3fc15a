// Shared by the Slack app's e2e tests: the real Bolt app on a real (per-file) database, listening
// over HTTP on loopback, talking to the fake Slack Web API; the AWS emulator behind the real
// Identity Center adapter; and `pump()`, which does what the worker does with the outbox.
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { Writable } from "node:stream";
import { createIdentityCenter, type IdentityCenterAdapter } from "@keyturn/aws";
import type { FlowRules } from "@keyturn/core";
import {
  type AssignmentClaimsHandle,
  createAssignmentClaims,
  createPrismaClient,
  createSlackNotifierStore,
  createUnitOfWork,
  markOutboxFailed,
  markOutboxSent,
  type PrismaClient,
  pinSlackUserId,
} from "@keyturn/db";
import { createLogger } from "@keyturn/observability";
import { createRedisConnection } from "@keyturn/queue";
import { createSlackNotifier, createSlackWebClient, REQUEST_MODAL, slackPrincipal } from "@keyturn/slack";
import {
  type AwsEmulator,
  createSlackClient,
  type SignedSlackClient,
  type SlackFake,
  type SlackStateValues,
  slackSignature,
  startAwsEmulator,
  startSlackFake,
  testFlowRules,
} from "@keyturn/testkit";
import { standardSeed } from "@keyturn/testkit/aws-test-clients";
import { useTestDatabase } from "@keyturn/testkit/database";
import {
  AppError,
  checkOnCall,
  type Deps,
  failCliSignIn,
  type Integrations,
  type Notifier,
  putFlow,
  type ReconcileDeps,
  reconcileAssignment,
  resolveIdentity,
  type SignInNotifier,
  submitRequest,
  timeOutRequest,
} from "@keyturn/usecases";
import { afterAll, beforeAll, expect } from "vitest";
import { createSlackApp, type KeyturnSlackApp } from "./app.js";
import { createRedisReplayMemory, type ReplayMemory } from "./request-guard.js";

export const ACCOUNT = "111122223333";
export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5keyturn";
export const APPROVAL_CHANNEL = "C0APPROVALS";
export const PORTAL_URL = "https://d-1234567890.awsapps.com/start";
export const SSO_REGION = "eu-west-1";

/** The people of the fake workspace; the same emails exist in the emulated Identity Center. */
export const PEOPLE = {
  alice: { id: "U0ALICE", name: "alice", email: "alice@example.com" },
  ann: { id: "U0ANN", name: "ann", email: "ann@example.com" },
  bob: { id: "U0BOB", name: "bob", email: "bob@example.com" },
  carol: { id: "U0CAROL", name: "carol", email: "carol@example.com" },
  mallory: { id: "U0MALLORY", name: "mallory", email: "mallory@example.com" },
  dave: { id: "U0DAVE", name: "dave", email: "dave@example.com" },
} as const;
/** Approvers of every test flow besides ann: bob, and alice (so her own click is self-approval). */
export const OPS_GROUP = "S0OPS";

export function flowRules(overrides: Partial<FlowRules> = {}): FlowRules {
  return testFlowRules({
    title: "S3 production data",
    targets: [{ accountId: ACCOUNT, permissionSetName: "S3Access" }],
    approvers: [
      { kind: "email", email: PEOPLE.ann.email },
      { kind: "slack_group", id: OPS_GROUP },
    ],
    reason: { required: true },
    ticket: { required: false, pattern: "INC-\\d+" },
    extensions: { maxCount: 1, maxExtensionSeconds: 3600, requiresApproval: false },
    approvalChannel: APPROVAL_CHANNEL,
    ...overrides,
  });
}

type PumpReport = {
  processed: Array<{ topic: string; key: string }>;
  failed: Array<{ topic: string; key: string; error: unknown }>;
};

/**
 * Processes the outbox in-process with the handlers the worker runs for each topic, until nothing
 * due is left: rows are marked sent on success; a failure is recorded on its row (attempts,
 * lastError), left pending for the next pump and reported. Deterministic: one row at a time, in
 * commit order.
 */
function createOutboxPump(deps: {
  db: PrismaClient;
  notifier: Notifier & SignInNotifier;
  reconcile: ReconcileDeps;
  usecases: Deps;
}): () => Promise<PumpReport> {
  const handlers: Record<string, (payload: Record<string, unknown>) => Promise<void>> = {
    "request.notify": (payload) =>
      deps.notifier.notify({
        requestId: String(payload.requestId),
        event: String(payload.event),
        auditEventId: String(payload.auditEventId),
      }),
    "assignment.reconcile": async (payload) => {
      // "pending" (AWS still deleting) comes back after its delay, as the worker's job does.
      for (let run = 1; ; run++) {
        const result = await reconcileAssignment(deps.reconcile, {
          assignmentId: String(payload.assignmentId),
        });
        if (!result.ok) {
          throw new AppError(result.error.code, result.error.message, { retryable: false });
        }
        if (result.value.outcome === "busy") {
          throw new AppError("ASSIGNMENT_BUSY", "reconciled elsewhere", { retryable: true });
        }
        if (result.value.outcome !== "pending" || run >= 20) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, result.value.retryAfterMs ?? 0));
      }
    },
    "signin.notify": async (payload) => {
      const signInId = String(payload.signInId);
      if ((await deps.notifier.notifySignIn({ signInId })) === "unreachable") {
        await failCliSignIn(deps.usecases, { signInId, reason: "nobody in Slack to ask" });
      }
    },
    // A worker that manages no bucket policy (none here) has nothing to cut off or apply.
    "cutoff.arm": async () => undefined,
    "bucket.apply": async () => undefined,
    "identity.resolve": async (payload) => {
      await resolveIdentity(deps.reconcile, { identityId: String(payload.identityId) });
    },
    "request.on-call-check": async (payload) => {
      const result = await checkOnCall(deps.usecases, { requestId: String(payload.requestId) });
      if (!result.ok) {
        throw new AppError(result.error.code, result.error.message, { retryable: false });
      }
    },
    "request.time-out": async (payload) => {
      const result = await timeOutRequest(deps.usecases, { requestId: String(payload.requestId) });
      if (
        !result.ok &&
        result.error.code !== "ALREADY_DECIDED" &&
        result.error.code !== "REQUEST_NOT_FOUND"
      ) {
        throw new AppError(result.error.code, result.error.message, {
          retryable: result.error.code === "NOT_DUE",
        });
      }
    },
  };
  return async () => {
    const report: PumpReport = { processed: [], failed: [] };
    const skip: string[] = [];
    for (let round = 0; round < 200; round++) {
      const [row] = await deps.db.outboxMessage.findMany({
        where: { sentAt: null, availableAt: { lte: new Date() }, id: { notIn: skip } },
        orderBy: { createdAt: "asc" },
        take: 1,
      });
      if (row === undefined) {
        return report;
      }
      const handler = handlers[row.topic];
      try {
        if (handler === undefined) {
          throw new Error(`no handler for outbox topic ${row.topic}`);
        }
        await handler(row.payload as Record<string, unknown>);
        await markOutboxSent(deps.db, [row.id], new Date());
        report.processed.push({ topic: row.topic, key: row.key });
      } catch (error) {
        skip.push(row.id);
        await markOutboxFailed(deps.db, row.id, error instanceof Error ? error.message : String(error));
        report.failed.push({ topic: row.topic, key: row.key, error });
      }
    }
    throw new Error("pump(): the outbox did not settle after 200 rows");
  };
}

export type SlackWorld = {
  db: PrismaClient;
  fake: SlackFake;
  /** Signed HTTP requests to the app; in Socket Mode use `fake.socketMode` instead. */
  slack: SignedSlackClient;
  app: KeyturnSlackApp;
  /** Where the app listens in HTTP mode; empty in Socket Mode (the app dials out). */
  appUrl: string;
  emulator: AwsEmulator;
  identityCenter: IdentityCenterAdapter;
  usecases: Deps;
  /** Identity Center user ids by user name (alice, bob, ...). */
  idcUsers: Record<string, string>;
  permissionSetArns: Record<string, string>;
  logs: string[];
  /** The replay memory the app shares with any replica a test starts (Redis, this file's prefix). */
  replays: ReplayMemory;
  /** Its Redis key prefix, for a replica with a connection of its own (a restarted process). */
  replaysPrefix: string;
  /** The notifier the pump uses (what the worker runs for request.notify and signin.notify). */
  notifier: Notifier & SignInNotifier;
  pump(): Promise<PumpReport>;
  /** Sends a signed Events API callback (Bolt acks events itself). */
  sendEvent(event: Record<string, unknown>): Promise<Response>;
  /** A flow written through the use case, as an admin would. */
  putFlow(name: string, rules: FlowRules): Promise<void>;
  counts(): Promise<Record<string, number>>;
};

/**
 * A database of its own, the AWS emulator, the fake Slack and the real app: on port 0 over HTTP
 * (the default), or connected to the fake over Socket Mode. Read it in tests and hooks (after
 * beforeAll), not at module level.
 */
export function useSlackWorld(
  options: {
    transport?: "http" | "socket";
    /** On-call and ticket providers (built once the test's own beforeAll has started their emulators). */
    integrations?: () => Integrations;
  } = {},
): SlackWorld {
  const database = useTestDatabase();
  let world: SlackWorld | undefined;
  let redis: ReturnType<typeof createRedisConnection> | undefined;
  let claims: AssignmentClaimsHandle | undefined;
  beforeAll(async () => {
    // One connection per concurrent click at most (two approvers racing), plus the notifier's.
    const db = createPrismaClient({ databaseUrl: database.url, maxConnections: 8 });
    const emulator = await startAwsEmulator({ seed: 11, assignmentDelayMs: 20 });
    const seed = standardSeed();
    const extra = ["ann", "dave", "mallory"].map((name) => ({
      userName: name,
      emails: [`${name}@example.com`],
    }));
    const seeded = emulator.seed({ ...seed, users: [...(seed.users ?? []), ...extra] });
    const identityCenter = createIdentityCenter({
      region: emulator.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "x" },
      pollIntervalMs: 20,
    });
    const fake = await startSlackFake();
    for (const person of Object.values(PEOPLE)) {
      fake.addUser(person);
    }
    fake.addUser({ id: "U0DEPLOYBOT", name: "deploybot", email: "", isBot: true });
    fake.addUser({ id: "U0GONE", name: "gone", email: "gone@example.com", deleted: true });
    fake.addUserGroup({ id: OPS_GROUP, handle: "ops", users: [PEOPLE.bob.id, PEOPLE.alice.id] });
    fake.addChannel({ id: APPROVAL_CHANNEL, name: "access-approvals" });

    const clock = { now: () => new Date() };
    const ids = { uuid: randomUUID };
    const integrations = options.integrations?.();
    const usecases: Deps = {
      uow: createUnitOfWork(db, { clock, ids }),
      clock,
      ids,
      ...(integrations === undefined ? {} : { integrations }),
    };
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    const logger = createLogger({ name: "keyturn-slack-test", level: "info", destination });
    redis = createRedisConnection("redis://127.0.0.1:6379", "producer");
    // It fails fast while not connected (the guard would answer 503): start once it is.
    await new Promise((resolve) => redis?.once("ready", resolve));
    const replaysPrefix = `kt-slack-${randomUUID().slice(0, 8)}`;
    const replays = createRedisReplayMemory({ redis, prefix: replaysPrefix });
    const app = createSlackApp({
      db,
      clock,
      ids,
      logger,
      slack: {
        botToken: fake.botToken,
        apiUrl: fake.url,
        transport:
          options.transport === "socket"
            ? { mode: "socket", appToken: fake.socketMode.appToken }
            : { mode: "http", signingSecret: SIGNING_SECRET, port: 0 },
      },
      aws: { portalUrl: PORTAL_URL, ssoRegion: SSO_REGION },
      replays,
      ...(integrations === undefined ? {} : { integrations }),
    });
    const { port } = await app.start(0);
    const appUrl = port === null ? "" : `http://127.0.0.1:${port}`;
    const slack = createSlackClient({ appUrl, signingSecret: SIGNING_SECRET, fake });
    const notifier = createSlackNotifier({
      client: createSlackWebClient({ token: fake.botToken, apiUrl: fake.url }),
      store: createSlackNotifierStore(db),
      config: { portalUrl: PORTAL_URL, ssoRegion: SSO_REGION },
    });
    claims = createAssignmentClaims({ databaseUrl: database.url });
    const reconcile: ReconcileDeps = { ...usecases, identityCenter, claims };
    world = {
      db,
      fake,
      slack,
      app,
      appUrl,
      emulator,
      identityCenter,
      usecases,
      idcUsers: seeded.users,
      permissionSetArns: seeded.permissionSets,
      logs,
      replays,
      replaysPrefix,
      notifier,
      pump: createOutboxPump({ db, notifier, reconcile, usecases }),
      sendEvent: (event) => sendEvent({ appUrl, fake, event }),
      async putFlow(name, rules) {
        const result = await putFlow(usecases, { name, rules, by: { type: "system", id: "test" } });
        if (!result.ok) {
          throw new Error(`putFlow ${name}: ${result.error.message}`);
        }
      },
      counts: () => countRows(db),
    };
  });
  afterAll(async () => {
    await claims?.close();
    await world?.app.stop();
    await world?.fake.close();
    world?.identityCenter.close();
    await world?.emulator.close();
    await world?.db.$disconnect();
    await redis?.quit();
  });
  return new Proxy({} as SlackWorld, {
    get(_target, key) {
      if (world === undefined) {
        throw new Error("useSlackWorld(): available once beforeAll has run");
      }
      return world[key as keyof SlackWorld];
    },
  });
}

async function sendEvent(input: { appUrl: string; fake: SlackFake; event: Record<string, unknown> }) {
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    token: "keyturn-verification-token",
    team_id: input.fake.teamId,
    api_app_id: input.fake.appId,
    event: { event_ts: `${timestamp}.000100`, ...input.event },
    type: "event_callback",
    event_id: `Ev${randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`,
    event_time: timestamp,
    authorizations: [{ team_id: input.fake.teamId, user_id: input.fake.botUserId, is_bot: true }],
  });
  return fetch(`${input.appUrl}/slack/events`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": slackSignature(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
}

/** Row counts of every table (found at run time, so a new table is covered too). */
async function countRows(db: PrismaClient): Promise<Record<string, number>> {
  const tables = await db.$queryRaw<{ name: string }[]>`
    SELECT table_name::text AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
    ORDER BY table_name`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const rows = await db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`,
    );
    counts[name] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}

/** The modal's state values as Slack would send them for these choices. */
export function formValues(input: {
  flow: string;
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  target?: { accountId: string; permissionSetName: string };
}): SlackStateValues {
  const { blocks, actions } = REQUEST_MODAL;
  const select = (value: string | undefined) => ({
    type: "static_select",
    selected_option: value === undefined ? null : { text: { type: "plain_text", text: value }, value },
  });
  const text = (value: string | undefined) => ({ type: "plain_text_input", value: value ?? null });
  const values: SlackStateValues = {
    [blocks.flow]: { [actions.flow]: select(input.flow) },
    [blocks.duration]: {
      [actions.duration]: select(
        input.durationSeconds === undefined ? undefined : String(input.durationSeconds),
      ),
    },
    [blocks.reason]: { [actions.reason]: text(input.reason) },
    [blocks.ticket]: { [actions.ticket]: text(input.ticket) },
  };
  if (input.target !== undefined) {
    values[blocks.target] = {
      [actions.target]: select(`${input.target.accountId}/${input.target.permissionSetName}`),
    };
  }
  return values;
}

/** `/access [text]` from a user; resolves with the modal Slack opened for it. */
export async function openAccessModal(world: SlackWorld, userId: string, text = "") {
  const triggerId = world.fake.newTriggerId(userId);
  const delivery = await world.slack.slashCommand({ command: "/access", userId, text, triggerId });
  const call = await world.fake.waitForCall("views.open", (c) => c.args.trigger_id === triggerId);
  const viewId = (call.response.view as { id: string }).id;
  const view = world.fake.views(userId).find((v) => v.id === viewId);
  if (view === undefined) {
    throw new Error("views.open succeeded but the fake holds no such view");
  }
  return { delivery, view };
}

/** Waits for the app's after-ack answer in a submitted modal (the "sending" note replaced). */
export function modalOutcome(world: SlackWorld, viewId: string) {
  return world.fake.waitForCall(
    "views.update",
    (c) => c.args.view_id === viewId && !JSON.stringify(c.args.view).includes("Sending your request"),
  );
}

/** The text of every block and the fallback of a recorded call or message, for assertions. */
export function textOf(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * A click on a message; resolves with what the app said back to the clicker alone (its
 * response_url post) once it has said it.
 */
export async function clickOnMessage(
  world: SlackWorld,
  input: { userId: string; actionId: string; channelId: string; messageTs: string; value?: string },
) {
  const responseUrl = world.fake.newResponseUrl({
    kind: "actions",
    channelId: input.channelId,
    userId: input.userId,
    messageTs: input.messageTs,
  });
  const delivery = await world.slack.blockAction({ ...input, responseUrl });
  const reply = await world.fake.waitForCall("response_url", (c) => c.responseUrl === responseUrl);
  return { delivery, reply: String(reply.args.text ?? "") };
}

type RequestInput = {
  flow: string;
  by: { id: string; email: string };
  reason?: string;
  durationSeconds?: number;
};

/** A request made through the use case, as the view submission makes it (nothing pumped yet). */
export async function submitAsSlackUser(world: SlackWorld, input: RequestInput): Promise<string> {
  const submitted = await submitRequest(world.usecases, {
    flowName: input.flow,
    requester: slackPrincipal(input.by.email, input.by.id, []),
    source: "slack",
    reason: input.reason ?? "routine maintenance",
    ...(input.durationSeconds === undefined ? {} : { durationSeconds: input.durationSeconds }),
  });
  if (!submitted.ok) {
    throw new Error(`submitRequest: ${submitted.error.message}`);
  }
  await pinSlackUserId(world.db, { email: input.by.email, slackUserId: input.by.id, at: new Date() });
  return submitted.value.id;
}

/**
 * A pending request made through the use case (as the view submission would), its channel
 * message posted by the notifier; for tests about what happens next.
 */
export async function pendingRequest(world: SlackWorld, input: RequestInput) {
  const requestId = await submitAsSlackUser(world, input);
  const report = await world.pump();
  if (report.failed.length > 0) {
    throw new Error(`pump failed: ${String(report.failed[0]?.error)}`);
  }
  const message = await world.db.slackMessage.findUniqueOrThrow({
    where: { requestId_kind: { requestId, kind: "approval" } },
  });
  return { requestId, channel: message.channel, ts: message.ts };
}

/**
 * Delivers an earlier request again the way Slack redelivers one: the same body, signed afresh
 * (new timestamp), with X-Slack-Retry-Num; to the same app or another replica.
 */
export async function redeliver(
  delivery: { request: { url: string; body: string } },
  options: { appUrl?: string; retryNum?: number } = {},
) {
  // Slack redelivers after its 3 s deadline passed unanswered, and again a minute later, each signed
  // with its own later timestamp (the original's would make it a replay, which the guard refuses);
  // the test does not wait, it dates the redelivery as Slack would.
  const timestamp = Math.floor(Date.now() / 1000) + 3 + 60 * ((options.retryNum ?? 1) - 1);
  const url = new URL(delivery.request.url);
  const target = options.appUrl === undefined ? url : new URL(url.pathname, options.appUrl);
  const response = await fetch(target, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": slackSignature(SIGNING_SECRET, timestamp, delivery.request.body),
      "x-slack-retry-num": String(options.retryNum ?? 1),
      "x-slack-retry-reason": "http_timeout",
    },
    body: delivery.request.body,
  });
  const body = await response.text();
  return { status: response.status, json: body === "" ? undefined : (JSON.parse(body) as unknown) };
}

/**
 * A raw HTTP exchange: writes the head and `chunks` of the body (never finishing it unless told),
 * and resolves with the status line the server answered, or "reset"/"closed" if it answered none.
 */
export function rawHttpExchange(
  base: string,
  head: Record<string, string>,
  chunks: Buffer[],
  options: { finish?: boolean } = {},
): Promise<{ status: string; bodySent: number }> {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    let bodySent = 0;
    let settled = false;
    const settle = (status: string) => {
      if (!settled) {
        settled = true;
        socket.destroy();
        resolve({ status, bodySent });
      }
    };
    socket.on("data", (data) => {
      answer += data.toString("latin1");
      const line = answer.split("\r\n")[0];
      if (answer.includes("\r\n") && line !== undefined) {
        settle(line);
      }
    });
    socket.on("error", () => settle("reset"));
    socket.on("close", () => settle("closed"));
    const sendRequest = async () => {
      const lines = [
        "POST /slack/events HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        ...Object.entries(head).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      for (const chunk of chunks) {
        if (settled) {
          return;
        }
        await new Promise<void>((done) => socket.write(chunk, () => done()));
        bodySent += chunk.length;
      }
      if (options.finish === true) {
        socket.end();
      }
    };
    // Fire-and-forget: the exchange settles from the socket's own events ("data", "error",
    // "close"), and sendRequest cannot reject (a failed write still calls back, and ends here).
    socket.on("connect", () => void sendRequest());
  });
}

/** Another replica of the app on the world's database and fake Slack, sharing `replays`. */
export async function startSlackReplica(
  world: SlackWorld,
  replays: ReplayMemory = world.replays,
): Promise<KeyturnSlackApp & { url: string }> {
  const replica = createSlackApp({
    db: world.db,
    clock: { now: () => new Date() },
    ids: { uuid: randomUUID },
    logger: createLogger({ name: "replica", level: "silent" }),
    slack: {
      botToken: world.fake.botToken,
      apiUrl: world.fake.url,
      transport: { mode: "http", signingSecret: SIGNING_SECRET, port: 0 },
    },
    aws: { portalUrl: PORTAL_URL, ssoRegion: SSO_REGION },
    replays,
  });
  const { port } = await replica.start(0);
  return Object.assign(replica, { url: `http://127.0.0.1:${port}` });
}

/** Runs `act` and asserts that no table gained or lost a row; resolves with what it returned. */
export async function expectUnchanged<T>(world: SlackWorld, act: () => Promise<T>): Promise<T> {
  const before = await world.counts();
  const result = await act();
  expect(await world.counts()).toEqual(before);
  return result;
}
