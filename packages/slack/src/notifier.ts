import { randomUUID } from "node:crypto";
import {
  AppError,
  type Clock,
  type IdGenerator,
  type Notifier,
  type SignInNotifier,
  type SlackMessageRecord,
  type SlackNotifierStore,
} from "@keyturn/usecases";
import type { WebClient } from "@slack/web-api";
import { approvalMessage, type SlackMessageContent } from "./blocks/approval-message.js";
import { breakGlassAlert } from "./blocks/break-glass-alert.js";
import type { AwsAccessConfig } from "./blocks/cli-profile.js";
import { milestoneButtonStatus, requesterMessage, requesterMilestone } from "./blocks/requester-message.js";
import { signInMessage } from "./blocks/sign-in-message.js";
import type { PersonRef, RequestCard } from "./request-card.js";
import { callSlack, SlackCallError } from "./slack-api-errors.js";

export type SlackNotifierConfig = AwsAccessConfig & {
  /** Where requests of flows without an `approvalChannel` go; none: they get no channel message. */
  defaultApprovalChannel?: string;
};

export type NotifierLogger = {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
};

export type SlackNotifierOptions = {
  /** A WebClient with `retryConfig: { retries: 0 }, rejectRateLimitedCalls: true`: retries are the job system's. */
  client: WebClient;
  /** The requests and the messages posted about them (packages/db: createSlackNotifierStore). */
  store: SlackNotifierStore;
  config: SlackNotifierConfig;
  clock?: Clock;
  ids?: IdGenerator;
  logger?: NotifierLogger;
  /** A claimed but unposted message older than this belonged to a delivery that died. */
  claimStaleAfterMs?: number;
};

type Outcome = "posted" | "updated" | "unchanged";

const silent: NotifierLogger = { info: () => undefined, warn: () => undefined };

/**
 * The Slack side of every request change. Called by the worker for each `request.notify` outbox
 * message, at least once per event. It renders from the request as it is NOW (not from the event),
 * so a repeated or late notification converges on the same messages:
 *  - the approval-channel message is posted once and then updated in place;
 *  - a break-glass request also gets one loud alert in that channel, updated in place;
 *  - the requester gets a new DM per step (pending, each partial approval, active, each
 *    extension, the end), each posted once; older DMs lose their buttons when a new one lands.
 */
export function createSlackNotifier(options: SlackNotifierOptions): Notifier & SignInNotifier {
  const { client, store, config } = options;
  const now = () => (options.clock ?? { now: () => new Date() }).now();
  const uuid = () => (options.ids ?? { uuid: randomUUID }).uuid();
  const logger = options.logger ?? silent;
  const staleAfterMs = options.claimStaleAfterMs ?? 60_000;

  const post = async (channel: string, content: SlackMessageContent) => {
    const answer = await callSlack(
      "chat.postMessage",
      () =>
        client.chat.postMessage({
          channel,
          text: content.text,
          blocks: content.blocks,
          unfurl_links: false,
          unfurl_media: false,
        }),
      channel,
    );
    if (answer.ts === undefined) {
      throw new AppError("SLACK_NO_TS", "Slack chat.postMessage answered without a message ts", {
        retryable: true,
      });
    }
    return { channel: answer.channel ?? channel, ts: answer.ts };
  };

  const update = async (requestId: string, record: SlackMessageRecord, content: SlackMessageContent) => {
    try {
      await callSlack(
        "chat.update",
        () =>
          client.chat.update({
            channel: record.channel,
            ts: record.ts,
            text: content.text,
            blocks: content.blocks,
          }),
        record.channel,
      );
    } catch (error) {
      if (error instanceof SlackCallError && error.slackError === "message_not_found") {
        // Someone deleted it: forget it, and let the retry post a fresh one.
        await store.forgetMessage({ requestId, kind: record.kind, ts: record.ts });
        throw new SlackCallError({
          code: "SLACK_MESSAGE_GONE",
          method: "chat.update",
          slackError: "message_not_found",
          message: `Slack message ${record.kind} of request ${requestId} was deleted; it will be posted again`,
          retryable: true,
          cause: error,
        });
      }
      throw error;
    }
    await store.touchMessage({ requestId, kind: record.kind, now: now() });
  };

  /**
   * Posts the message of `kind` once (guarded by its SlackMessage row) or, if it exists and
   * `updateExisting`, rewrites it in place.
   */
  const ensure = async (
    requestId: string,
    kind: string,
    channel: string,
    content: SlackMessageContent,
    updateExisting: boolean,
  ): Promise<Outcome> => {
    const claim = await store.claimMessage({
      id: uuid(),
      requestId,
      kind,
      channel,
      now: now(),
      staleAfterMs,
    });
    if (claim.claimed) {
      try {
        const posted = await post(channel, content);
        await store.completeMessage({ requestId, kind, ...posted, now: now() });
        return "posted";
      } catch (error) {
        await store.releaseMessageClaim({ requestId, kind });
        throw error;
      }
    }
    if (claim.reason === "in_progress") {
      throw new AppError(
        "SLACK_MESSAGE_IN_PROGRESS",
        `another delivery is posting the ${kind} message of request ${requestId}; retry shortly`,
        { retryable: true },
      );
    }
    if (!updateExisting) {
      return "unchanged";
    }
    await update(requestId, claim.existing, content);
    return "updated";
  };

  const dmChannel = async (person: PersonRef): Promise<string | null> => {
    let userId = person.slackUserId;
    if (userId === null) {
      // Requested through the API by someone Slack knows by email: still tell them.
      try {
        const found = await callSlack("users.lookupByEmail", () =>
          client.users.lookupByEmail({ email: person.email }),
        );
        userId = found.user?.id ?? null;
      } catch (error) {
        if (error instanceof SlackCallError && error.slackError === "users_not_found") {
          return null;
        }
        throw error;
      }
    }
    if (userId === null) {
      return null;
    }
    const user = userId;
    const opened = await callSlack("conversations.open", () => client.conversations.open({ users: user }));
    return opened.channel?.id ?? null;
  };

  const notifyRequester = async (card: RequestCard) => {
    const channel = await dmChannel(card.requester);
    if (channel === null) {
      logger.info({ requestId: card.id }, "requester has no Slack account Keyturn can find; no DM sent");
      return;
    }
    const milestone = requesterMilestone(card);
    const content = requesterMessage(card, { aws: config, current: true });
    const outcome = await ensure(card.id, milestone, channel, content, false);
    if (outcome !== "posted") {
      return;
    }
    // The step moved on: earlier DMs keep their text but lose buttons that no longer apply.
    // (A crash right here leaves them with stale buttons; clicking one is refused by the use case.)
    const earlier = (await store.findMessages(card.id)).filter(
      (record) =>
        record.kind !== milestone && record.ts !== "" && milestoneButtonStatus(record.kind) !== null,
    );
    for (const record of earlier) {
      const status = milestoneButtonStatus(record.kind);
      if (status !== null) {
        await update(card.id, record, requesterMessage(card, { aws: config, current: false, status }));
      }
    }
  };

  return {
    // The `keyturn login` DM: posted once (the sign-in row remembers it), only while it can still
    // be answered. The answer replaces its buttons (the Slack app does that on the click).
    async notifySignIn({ signInId }) {
      const signIn = await store.signIn(signInId);
      if (signIn === null) {
        throw new AppError("SIGN_IN_NOT_FOUND", `no sign-in ${signInId} to ask about`, { retryable: false });
      }
      if (signIn.status !== "pending" || signIn.expiresAt <= now() || signIn.dmTs !== null) {
        return "skipped";
      }
      const channel =
        signIn.slackUserId !== null || signIn.email !== null
          ? await dmChannel({ email: signIn.email ?? "", slackUserId: signIn.slackUserId })
          : null;
      if (channel === null) {
        logger.warn({ signInId }, "the person signing in has no Slack account Keyturn can find; no DM sent");
        return "unreachable";
      }
      if (!(await store.claimSignInMessage(signInId, channel))) {
        return "skipped";
      }
      try {
        const posted = await post(channel, signInMessage({ ...signIn, status: "pending" }));
        await store.recordSignInMessage(signInId, posted.ts);
        return "asked";
      } catch (error) {
        await store.releaseSignInMessage(signInId);
        throw error;
      }
    },
    async notify({ requestId, event }) {
      const card = await store.requestCard(requestId);
      if (card === null) {
        throw new AppError("REQUEST_NOT_FOUND", `no request ${requestId} to notify about`, {
          retryable: false,
        });
      }
      const channel = card.flow.rules.approvalChannel ?? config.defaultApprovalChannel;
      const parts: Array<[string, () => Promise<unknown>]> = [];
      if (channel === undefined) {
        logger.warn(
          { requestId, flow: card.flow.name },
          "flow has no approval channel and no default is set",
        );
      } else if (awaitingOnCallCheck(card)) {
        // Keyturn may approve it itself in a moment: approvers are not asked (nor woken) before the
        // on-call check says it needs them. Its outcome notifies again and posts the message.
        logger.info({ requestId }, "approval message held until the on-call check is recorded");
      } else {
        parts.push(["approval", () => ensure(card.id, "approval", channel, approvalMessage(card), true)]);
        if (card.breakGlass) {
          parts.push(["alert", () => ensure(card.id, "alert", channel, breakGlassAlert(card), true)]);
        }
      }
      parts.push(["requester", () => notifyRequester(card)]);

      // A transient failure stops the pass (Slack asked us to back off; the retry redoes it all,
      // idempotently). A permanent one (say, the bot is not in the channel) must not keep the
      // requester from hearing about their request, so the other parts still run.
      let permanent: AppError | undefined;
      for (const [part, run] of parts) {
        try {
          await run();
        } catch (error) {
          if (error instanceof AppError && !error.retryable) {
            logger.warn({ requestId, event, part, code: error.code, err: error }, error.message);
            permanent ??= error;
            continue;
          }
          throw error;
        }
      }
      if (permanent !== undefined) {
        throw permanent;
      }
    },
  };
}

/** A pending request of a flow with on-call approval whose check has not been recorded yet. */
function awaitingOnCallCheck(card: RequestCard): boolean {
  return card.status === "pending" && card.flow.rules.onCallApproval !== undefined && card.onCall === null;
}
