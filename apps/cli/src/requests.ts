// Requests as the requester's commands show and wait for them.
import { setTimeout as sleep } from "node:timers/promises";
import { type ApiClient, call, type Schemas } from "./api-client.js";
import { CliError } from "./cli-error.js";
import { formatSeconds, formatTime } from "./format.js";

export type AccessRequest = Schemas["AccessRequest"];

const POLL_MS = 1_000;

export async function getRequest(api: ApiClient, id: string): Promise<AccessRequest> {
  return call(api.GET("/v1/requests/{id}", { params: { path: { id } } }));
}

/** The one line that says where a request stands. */
export function describeRequest(request: AccessRequest): string {
  const approvers = request.reviews
    .filter((r) => r.decision === "approve")
    .map((r) => r.reviewer.email)
    .join(", ");
  const denial = request.reviews.find((r) => r.decision === "deny");
  switch (request.state) {
    case "pending":
      return approvers === ""
        ? `pending: waiting for approval (until ${formatTime(request.pendingUntil)})`
        : `pending: approved by ${approvers}, waiting for more approvals`;
    case "approved":
      return `approved${approvers === "" ? "" : ` by ${approvers}`}: provisioning access in AWS`;
    case "active":
      return `active until ${formatTime(request.lease?.endsAt ?? request.expiresAt)}`;
    case "denied":
      return `denied${denial === undefined ? "" : ` by ${denial.reviewer.email}`}${
        denial?.comment == null ? "" : `: ${denial.comment}`
      }`;
    case "timed_out":
      return `timed out: nobody decided by ${formatTime(request.pendingUntil)}`;
    case "failed":
      return `failed: ${request.failureReason ?? "AWS did not grant the access"}`;
    case "cancelled":
      return "cancelled";
    case "revoked":
      return `revoked at ${formatTime(request.endedAt)}`;
    case "expired":
      return `expired at ${formatTime(request.endedAt ?? request.expiresAt)}`;
  }
}

/** What a state means while following a request (reviews are reported on their own lines). */
function stepLine(request: AccessRequest): string {
  switch (request.state) {
    case "pending":
      return `pending: waiting for approval (until ${formatTime(request.pendingUntil)})`;
    case "approved":
      return "approved: provisioning access in AWS";
    default:
      return describeRequest(request);
  }
}

/**
 * Follows a request until it is active (resolves with it) or ends without access (throws a
 * CliError with the reason), printing a line for each review and each change of state, even when
 * a poll finds several steps done at once.
 */
export async function waitForActive(
  api: ApiClient,
  first: AccessRequest,
  options: { timeoutMs: number; now(): Date; progress(line: string): void },
): Promise<AccessRequest> {
  const deadline = options.now().getTime() + options.timeoutMs;
  let request = first;
  let reviewsSeen = 0;
  let lastState = "";
  for (;;) {
    for (const review of request.reviews.slice(reviewsSeen)) {
      if (review.decision === "approve") {
        options.progress(
          `approved by ${review.reviewer.email}${review.override ? " (admin override)" : ""}\n`,
        );
      }
    }
    reviewsSeen = request.reviews.length;
    if (request.state !== lastState) {
      lastState = request.state;
      if (request.state === "pending" || request.state === "approved" || request.state === "active") {
        options.progress(`${stepLine(request)}\n`);
      }
    }
    if (request.state === "active") {
      return request;
    }
    if (request.state !== "pending" && request.state !== "approved") {
      throw new CliError(`request ${request.id} ${describeRequest(request)}`);
    }
    if (options.now().getTime() >= deadline) {
      throw new CliError(
        `request ${request.id} is still ${request.state} after ${formatSeconds(Math.round(options.timeoutMs / 1000))}; ` +
          `follow it with 'keyturn status ${request.id}'`,
      );
    }
    await sleep(POLL_MS);
    request = await getRequest(api, request.id);
  }
}
