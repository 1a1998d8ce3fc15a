import { REQUEST_SOURCES, REQUEST_STATUSES } from "@keyturn/core";
import type { RequestView } from "@keyturn/db";
import { z } from "zod";
import { iso } from "./common.js";

const When = z.string().meta({ format: "date-time" });
const MaybeWhen = When.nullable();

export const RequestViewSchema = z
  .object({
    id: z.string(),
    flow: z.object({ name: z.string(), version: z.number().int() }),
    requester: z.object({ email: z.string() }),
    target: z.object({ accountId: z.string(), permissionSetName: z.string() }),
    reason: z.string(),
    ticket: z.string().nullable(),
    linkedTicket: z
      .object({
        provider: z.enum(["jira", "linear"]),
        key: z.string(),
        title: z.string(),
        url: z.string(),
        state: z.string(),
      })
      .nullable()
      .meta({ description: "The ticket the flow checked at submission; its closing ends the access" }),
    onCall: z.object({ checkedAt: When, outcome: z.string(), note: z.string() }).nullable().meta({
      description:
        "The on-call check of a flow with on-call approval: approved by Keyturn, or why it went to the approvers",
    }),
    notAfter: MaybeWhen.meta({
      description: "Access never lasts past this (an on-call grant capped at the shift's end)",
    }),
    endReason: z.string().nullable().meta({ description: "Why Keyturn ended the access early" }),
    durationSeconds: z.number().int(),
    state: z.enum(REQUEST_STATUSES),
    source: z.enum(REQUEST_SOURCES).meta({
      description:
        "slack or api: filed by the requester; integration: filed through the API by a token with " +
        "requests:on-behalf for the requester (the audit event request.submitted names the token)",
    }),
    breakGlass: z.boolean(),
    reviews: z.array(
      z.object({
        reviewer: z.object({ email: z.string() }),
        decision: z.enum(["approve", "deny"]),
        comment: z.string().nullable(),
        override: z.boolean().meta({ description: "An admin override of the flow's rules" }),
        at: When,
      }),
    ),
    createdAt: When,
    pendingUntil: MaybeWhen,
    decidedAt: MaybeWhen,
    activatedAt: MaybeWhen,
    expiresAt: MaybeWhen,
    endedAt: MaybeWhen,
    failureReason: z.string().nullable(),
    extensionCount: z.number().int(),
    lease: z.object({ startsAt: When, endsAt: When, releasedAt: MaybeWhen }).nullable(),
  })
  .meta({ id: "AccessRequest", description: "An access request; absent dates are null" });

export type RequestViewJson = z.infer<typeof RequestViewSchema>;

export function toRequestViewJson(view: RequestView): RequestViewJson {
  return {
    id: view.id,
    flow: { name: view.flowName, version: view.flowVersion },
    requester: { email: view.requester.email },
    target: { accountId: view.accountId, permissionSetName: view.permissionSetName },
    reason: view.reason,
    ticket: view.ticket,
    linkedTicket:
      view.ticketProvider === null || view.ticket === null
        ? null
        : {
            provider: view.ticketProvider === "linear" ? "linear" : "jira",
            key: view.ticket,
            title: view.ticketTitle ?? "",
            url: view.ticketUrl ?? "",
            state: view.ticketState ?? "",
          },
    onCall:
      view.onCallCheckedAt === null || view.onCallOutcome === null
        ? null
        : {
            checkedAt: view.onCallCheckedAt.toISOString(),
            outcome: view.onCallOutcome,
            note: view.onCallNote ?? "",
          },
    notAfter: iso(view.notAfter),
    endReason: view.endReason,
    durationSeconds: view.durationSeconds,
    state: view.status,
    source: view.source,
    breakGlass: view.breakGlass,
    reviews: view.reviews.map((r) => ({
      reviewer: { email: r.reviewer.email },
      decision: r.decision,
      comment: r.comment,
      override: r.override,
      at: r.createdAt.toISOString(),
    })),
    createdAt: view.createdAt.toISOString(),
    pendingUntil: iso(view.pendingUntil),
    decidedAt: iso(view.decidedAt),
    activatedAt: iso(view.activatedAt),
    expiresAt: iso(view.expiresAt),
    endedAt: iso(view.endedAt),
    failureReason: view.failureReason,
    extensionCount: view.extensionCount,
    lease:
      view.lease === null
        ? null
        : {
            startsAt: view.lease.startsAt.toISOString(),
            endsAt: view.lease.endsAt.toISOString(),
            releasedAt: iso(view.lease.releasedAt),
          },
  };
}
