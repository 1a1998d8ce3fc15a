import type { FlowRules, FlowTarget, LinkedTicket, RequestStatus, ReviewDecision } from "@keyturn/core";
import type { CliSignInRecord } from "./ports.js";

// What the Slack adapter (packages/slack) needs from storage, as ports: the database adapter
// implements them (packages/db, createSlackNotifierStore / createSlackIdentityStore), the apps
// wire one to the other, and the two adapters never import each other.

/** Someone a message names: by Slack mention where their Slack id is known, else by email. */
export type PersonRef = { email: string; slackUserId: string | null };

export type ReviewCard = {
  reviewer: PersonRef;
  decision: ReviewDecision;
  override: boolean;
  comment: string | null;
  at: Date;
};

/**
 * Everything the Slack builders show about a request, as plain data. Rendering is a pure function
 * of it, so a repeated notification renders (and updates a message to) the same content.
 */
export type RequestCard = {
  id: string;
  flow: { name: string; version: number; rules: FlowRules };
  requester: PersonRef;
  target: FlowTarget;
  reason: string;
  ticket: string | null;
  /** The ticket the flow checked (title and link for approvers); its closing ends the access. */
  linkedTicket: LinkedTicket | null;
  /** What the on-call check concluded, said to approvers and the requester. */
  onCall: { outcome: string; note: string } | null;
  /** Why Keyturn ended the access early (a closed ticket). */
  endReason: string | null;
  durationSeconds: number;
  status: RequestStatus;
  breakGlass: boolean;
  reviews: ReviewCard[];
  extensionCount: number;
  createdAt: Date;
  decidedAt: Date | null;
  activatedAt: Date | null;
  expiresAt: Date | null;
  endedAt: Date | null;
  failureReason: string | null;
  endedBy: PersonRef | null;
  /**
   * Filed through the API on the requester's behalf (source integration): the token that did it,
   * which approvers must see, since the requester did not ask in person.
   */
  filedBy: { tokenId: string; tokenName: string | null } | null;
};

/**
 * A Slack message Keyturn posted about a request, so later changes update it in place. Written
 * BEFORE its message is posted, with an empty `ts`: the claim that decides which of two concurrent
 * deliveries posts (see packages/db/src/slack-message-repository.ts).
 */
export type SlackMessageRecord = {
  requestId: string;
  kind: string;
  channel: string;
  /** Empty while claimed but not yet posted. */
  ts: string;
  updatedAt: Date;
};

export type SlackMessageClaim =
  | { claimed: true }
  | { claimed: false; existing: SlackMessageRecord; reason: "posted" | "in_progress" };

/** A sign-in as the Slack side reads it (outside any use case): the DM to post or rewrite. */
export type SlackSignInView = CliSignInRecord & { dmChannel: string | null; dmTs: string | null };

/**
 * The notifier's storage: the request as it is now, the messages posted about it, and the
 * `keyturn login` sign-ins it DMs about.
 */
export type SlackNotifierStore = {
  /** Null for an unknown (or malformed) request id. */
  requestCard(requestId: string): Promise<RequestCard | null>;
  findMessages(requestId: string): Promise<SlackMessageRecord[]>;
  claimMessage(input: {
    id: string;
    requestId: string;
    kind: string;
    channel: string;
    now: Date;
    staleAfterMs: number;
  }): Promise<SlackMessageClaim>;
  completeMessage(input: {
    requestId: string;
    kind: string;
    channel: string;
    ts: string;
    now: Date;
  }): Promise<void>;
  releaseMessageClaim(input: { requestId: string; kind: string }): Promise<void>;
  forgetMessage(input: { requestId: string; kind: string; ts: string }): Promise<void>;
  touchMessage(input: { requestId: string; kind: string; now: Date }): Promise<void>;
  /** Null for an unknown sign-in id. */
  signIn(signInId: string): Promise<SlackSignInView | null>;
  /** True for exactly one caller until the DM is recorded or released (a redelivery never DMs twice). */
  claimSignInMessage(signInId: string, channel: string): Promise<boolean>;
  recordSignInMessage(signInId: string, ts: string): Promise<void>;
  releaseSignInMessage(signInId: string): Promise<void>;
};

export type PinnedSlackIdentity = { id: string; email: string; slackUserId: string | null };

export type SlackPinOutcome = "pinned" | "already_pinned" | "no_identity" | "conflict";

/** The identities Slack users are pinned to (Slack user id <-> email, pinned once). */
export type SlackIdentityStore = {
  findBySlackUserId(slackUserId: string): Promise<PinnedSlackIdentity | null>;
  findByEmail(email: string): Promise<PinnedSlackIdentity | null>;
  pinSlackUserId(input: { email: string; slackUserId: string; at: Date }): Promise<SlackPinOutcome>;
};
