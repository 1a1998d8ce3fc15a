import type { RequestListener, Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Db } from "@keyturn/db";
import { createSlackIdentityStore, createUnitOfWork, pingDatabase } from "@keyturn/db";
import { answersWithin, type Logger, logStateChanges } from "@keyturn/observability";
import {
  ACTION_IDS,
  type AwsAccessConfig,
  createSlackIdentity,
  observedSlackFetch,
  REQUEST_MODAL,
  translateSlackError,
} from "@keyturn/slack";
import type { Clock, IdGenerator, Integrations } from "@keyturn/usecases";
import {
  type AllMiddlewareArgs,
  App,
  type BlockAction,
  HTTPReceiver,
  type SlackActionMiddlewareArgs,
} from "@slack/bolt";
import type { WebClientOptions } from "@slack/web-api";
import { type AfterAckQueue, createAfterAckQueue } from "./after-ack-queue.js";
import { boltLogger } from "./bolt-logger.js";
import { createInteractionLog } from "./interactions.js";
import { answerSignInAction } from "./listeners/actions/answer-sign-in.js";
import { cancelAction } from "./listeners/actions/cancel-request.js";
import { chooseFlowAction } from "./listeners/actions/choose-flow.js";
import { extendAction } from "./listeners/actions/extend-request.js";
import { openRequestModalAction } from "./listeners/actions/open-request-modal.js";
import { reviewAction } from "./listeners/actions/review-request.js";
import { revokeAction } from "./listeners/actions/revoke-request.js";
import { unknownAction } from "./listeners/actions/unknown-action.js";
import { accessCommand } from "./listeners/commands/access.js";
import { appHomeOpened } from "./listeners/events/app-home-opened.js";
import { submissionKey, submitRequestView } from "./listeners/views/submit-request.js";
import { createSlackAppMetrics, type SlackAppMetrics } from "./metrics.js";
import { createRequestGuard, type ReplayMemory } from "./request-guard.js";
import type { Services } from "./services.js";

/** How Slack reaches the app (config's SlackTransport fits; Redis is wired by the caller). */
type SlackAppTransport =
  | { mode: "http"; signingSecret: string; port: number }
  | { mode: "socket"; appToken: string };

export type SlackAppOptions = {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  slack: { botToken: string; apiUrl: string; transport: SlackAppTransport };
  aws: AwsAccessConfig;
  /** Slack's request path in HTTP mode. */
  path?: string;
  /** Counts failed Slack calls; served at /metrics in HTTP mode. Default: a fresh one. */
  metrics?: SlackAppMetrics;
  /**
   * HTTP mode: where signed requests already accepted are remembered, shared by every replica
   * (createRedisReplayMemory). Required in HTTP mode.
   */
  replays?: ReplayMemory;
  /** Ticket providers the modal's tickets are checked with (and on-call ones, for flows). */
  integrations?: Integrations;
};

export type KeyturnSlackApp = {
  app: App;
  services: Services;
  metrics: SlackAppMetrics;
  /** HTTP mode listens on `port` (0: any free one) and returns it; socket mode connects (port null). */
  start(port?: number): Promise<{ port: number | null }>;
  stop(): Promise<void>;
  /** The HTTP server once started in HTTP mode (the benchmark resets its connections). */
  httpServer(): Server | undefined;
};

// A stop waits this long for requests being answered, then for the work after their acks (the
// composition root's own shutdown bound is 10 s).
const ANSWER_GRACE_MS = 1_000;
const AFTER_ACK_GRACE_MS = 7_000;

/** Readiness: PostgreSQL always; Redis in HTTP mode, where the request guard refuses without it. */
async function readiness(db: Db, replays: ReplayMemory | undefined): Promise<Record<string, boolean>> {
  const [postgres, redis] = await Promise.all([
    answersWithin(() => pingDatabase(db)),
    replays === undefined ? Promise.resolve(undefined) : answersWithin(() => replays.ping()),
  ]);
  return redis === undefined ? { postgres } : { postgres, redis };
}

/** Tells the after-ack queue which requests still wait for their answer. */
function countingRequests(queue: AfterAckQueue, listener: RequestListener): RequestListener {
  return (req, res) => {
    queue.requestStarted();
    let finished = false;
    const finish = () => {
      if (!finished) {
        finished = true;
        queue.requestFinished();
      }
    };
    res.once("finish", finish);
    res.once("close", finish);
    listener(req, res);
  };
}

type ActionListener = (args: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs) => Promise<void>;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

type ClickBody = { trigger_id?: unknown; actions?: Array<{ action_id?: unknown; action_ts?: unknown }> };

/** One click is one (trigger, action time): a redelivery repeats both, another click does not. */
function clickKey({ body }: { body: ClickBody }): string | undefined {
  const action = body.actions?.[0];
  if (typeof body.trigger_id !== "string" || typeof action?.action_ts !== "string") {
    return undefined;
  }
  return `click:${body.trigger_id}:${action.action_ts}:${String(action.action_id)}`;
}

/**
 * Keyturn's Slack app: the listeners, wired to the use cases, over HTTP (signing secret, replay
 * guard) or Socket Mode (app token). Web API calls go to `slack.apiUrl`, are never retried inside
 * the client (a retry after Slack's 3 s is useless, and rate limits must show), and rate-limited
 * calls fail at once instead of waiting.
 */
export function createSlackApp(options: SlackAppOptions): KeyturnSlackApp {
  const { transport } = options.slack;
  const log = boltLogger(options.logger);
  const metrics = options.metrics ?? createSlackAppMetrics();
  const clientOptions: WebClientOptions = {
    slackApiUrl: options.slack.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // Bolt builds every client (and respond()) from these options: the one place every Slack call
    // of every listener passes through.
    fetch: observedSlackFetch({ apiUrl: options.slack.apiUrl, onError: metrics.observeSlackApiError }),
  };
  const nowMs = () => options.clock.now().getTime();
  const afterAck = createAfterAckQueue();
  let app: App;
  if (transport.mode === "http") {
    const receiver = new HTTPReceiver({
      signingSecret: transport.signingSecret,
      // The request guard wrapped around this receiver (below) is the one verifier: it checks the
      // same v0 HMAC and more (the window both ways, the body limit, replays) before Bolt sees a
      // byte, and a request it refuses never reaches Bolt. Bolt's own check would repeat it before
      // every ack: three more HMACs (its constant-time compare HMACs both sides) and a second parse
      // of the body. Bolt still reads the body the guard kept (rawBody) and parses it once.
      signatureVerification: false,
      endpoints: options.path ?? "/slack/events",
      logger: log,
      // Unsigned GETs: the replay guard only checks POSTs, and Bolt routes these before Slack's.
      customRoutes: [
        // Liveness: the process answers. Readiness: it can do its work, which needs PostgreSQL and
        // (for the request guard's replay memory) Redis.
        {
          path: "/healthz",
          method: ["GET"],
          handler: (_req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ status: "ok" }));
          },
        },
        {
          path: "/readyz",
          method: ["GET"],
          handler: (_req, res) => {
            void readiness(options.db, options.replays).then((checks) => {
              const ready = Object.values(checks).every(Boolean);
              res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
              res.end(JSON.stringify({ status: ready ? "ready" : "not_ready", ...checks }));
            });
          },
        },
        {
          path: "/metrics",
          method: ["GET"],
          handler: (_req, res) => {
            res.writeHead(200, { "content-type": metrics.contentType });
            res.end(metrics.render());
          },
        },
      ],
    });
    if (options.replays === undefined) {
      throw new Error("HTTP mode needs a replay memory shared by the replicas (Redis)");
    }
    const guard = createRequestGuard({
      signingSecret: transport.signingSecret,
      replays: options.replays,
      now: nowMs,
      logger: options.logger.child({ component: "request-guard" }),
    });
    receiver.requestListener = countingRequests(afterAck, guard.wrap(receiver.requestListener));
    app = new App({
      receiver,
      token: options.slack.botToken,
      clientOptions,
      logger: log,
      deferInitialization: true,
      // Keyturn keeps no conversation state: one global middleware less before every ack.
      convoStore: false,
    });
  } else {
    app = new App({
      token: options.slack.botToken,
      appToken: transport.appToken,
      socketMode: true,
      clientOptions,
      // apps.connections.open goes through this client, so SLACK_API_URL applies to it as well.
      installerOptions: { clientOptions },
      logger: log,
      deferInitialization: true,
      convoStore: false,
    });
  }

  const services: Services = {
    db: options.db,
    usecases: {
      // One info line per state change a click made (request ids, actor), for grep across apps.
      uow: createUnitOfWork(options.db, { ...options, onCommitted: logStateChanges(options.logger) }),
      clock: options.clock,
      ids: options.ids,
      ...(options.integrations === undefined ? {} : { integrations: options.integrations }),
    },
    identity: createSlackIdentity({
      client: app.client,
      store: createSlackIdentityStore(options.db),
      clock: options.clock,
    }),
    logger: options.logger,
    aws: options.aws,
    afterAck,
  };

  const interactions = createInteractionLog({ now: nowMs, logger: options.logger });
  app.command(
    "/access",
    interactions.once(({ command }) => `command:${command.trigger_id}`, accessCommand(services)),
  );
  app.view(
    REQUEST_MODAL.callbackId,
    interactions.once(({ body }) => submissionKey(body.view), submitRequestView(services)),
  );
  // A form Keyturn no longer knows (an old modal left open across an upgrade): acknowledged, which
  // closes it, rather than left for Slack to show an error after 3 s.
  app.view(
    { type: "view_submission", callback_id: new RegExp(`^(?!${escapeRegExp(REQUEST_MODAL.callbackId)}$)`) },
    async ({ ack, body }) => {
      await ack();
      options.logger.warn(
        { interaction: "unknown", callbackId: body.view.callback_id.slice(0, 64), userId: body.user.id },
        "a submission of a form Keyturn does not know",
      );
    },
  );
  // One Bolt listener routes every button: Bolt runs each registered listener's matching
  // middleware for every incoming action, and that cost lands before the ack.
  const buttons: Record<string, ActionListener> = {
    [ACTION_IDS.approve]: reviewAction(services, "approve"),
    [ACTION_IDS.deny]: reviewAction(services, "deny"),
    [ACTION_IDS.cancel]: cancelAction(services),
    [ACTION_IDS.revoke]: revokeAction(services),
    [ACTION_IDS.extend]: extendAction(services),
    [ACTION_IDS.openRequestModal]: openRequestModalAction(services),
    [ACTION_IDS.chooseFlow]: chooseFlowAction(services),
    [ACTION_IDS.approveSignIn]: answerSignInAction(services, "approve"),
    [ACTION_IDS.rejectSignIn]: answerSignInAction(services, "reject"),
  };
  const stale = unknownAction(services);
  // Every block action, known or not: an unknown one (an old message, a renamed button) is
  // acknowledged and explained instead of leaving Slack to show an error after 3 s.
  app.action<BlockAction>(
    { type: "block_actions" },
    interactions.once<Parameters<ActionListener>[0]>(clickKey, async (args) => {
      const listener = Object.hasOwn(buttons, args.action.action_id)
        ? buttons[args.action.action_id]
        : undefined;
      await (listener ?? stale)(args);
    }),
  );
  app.event("app_home_opened", appHomeOpened(services));
  app.error(async (error) => {
    options.logger.error({ err: error }, "unhandled error in a Slack listener");
  });

  let server: Server | undefined;
  return {
    app,
    services,
    metrics,
    async start(port) {
      // Bolt checks the token with auth.test; deferred to here so that a bad token or an
      // unreachable Slack fails start() with a clear error instead of an unhandled rejection.
      try {
        await app.init();
      } catch (error) {
        const { slackError } = translateSlackError(error, "auth.test");
        throw new Error(
          `could not verify SLACK_BOT_TOKEN with Slack at SLACK_API_URL (auth.test: ${slackError}); ` +
            "check the token, the URL and that Slack is reachable",
          { cause: error },
        );
      }
      if (transport.mode === "socket") {
        await app.start();
        return { port: null };
      }
      server = (await app.start(port ?? transport.port)) as Server;
      return { port: (server.address() as AddressInfo).port };
    },
    httpServer: () => server,
    async stop() {
      // No new requests from here; the ones being answered get their answer first.
      const stopping = app.stop();
      await afterAck.drained(ANSWER_GRACE_MS);
      // Keep-alive connections would hold close() open until they time out.
      server?.closeAllConnections();
      await stopping;
      // What was acknowledged is done before the caller closes the database under it.
      if (!(await afterAck.drained(AFTER_ACK_GRACE_MS))) {
        options.logger.warn(
          { ...afterAck.stats(), graceMs: AFTER_ACK_GRACE_MS },
          "stopping with work after an ack still running",
        );
      }
    },
  };
}
