// A database that has been in use for a year: 100,000 access requests over a few flows and a few
// thousand requesters, with the reviews, assignments and leases their states imply. Written with
// set-based SQL (seconds, not the minutes the use cases would take), after the flows are put
// through the use case so their rules are real.
import { randomUUID } from "node:crypto";
import type { FlowRules } from "../../packages/core/src/index.js";
import { createUnitOfWork, type PrismaClient } from "../../packages/db/src/index.js";
import { withAdmin } from "../../packages/testkit/src/database/admin.js";
import { putFlow } from "../../packages/usecases/src/index.js";

export const SEED_ACCOUNT = "111122223333";

/** Flow name -> share of the requests. */
const SEED_FLOWS: Record<string, number> = {
  "s3-prod-read": 0.4,
  "s3-analytics": 0.25,
  "billing-read": 0.15,
  "ops-admin": 0.15,
  "break-glass": 0.05,
};

export type SeedOptions = { requests: number; requesters: number; approvers: number };

export type SeededRequests = {
  requests: number;
  byStatus: Record<string, number>;
  flows: string[];
  /** Requester emails, most active first. */
  requesters: string[];
};

function rules(title: string, permissionSetName: string, approvers: number): FlowRules {
  return {
    title,
    targets: [{ accountId: SEED_ACCOUNT, permissionSetName }],
    requesters: [{ kind: "anyone" }],
    approvers: Array.from({ length: approvers }, (_, i) => ({
      kind: "email" as const,
      email: `approver${i}@example.com`,
    })),
    approvalsRequired: 1,
    selfApproval: false,
    autoApprove: false,
    breakGlass: false,
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 14_400,
    reason: { required: true },
    ticket: { required: false },
    pendingTimeoutSeconds: 3600,
    extensions: { maxCount: 1, maxExtensionSeconds: 3600, requiresApproval: false },
  };
}

export async function seedRequests(
  db: PrismaClient,
  databaseUrl: string,
  options: SeedOptions,
): Promise<SeededRequests> {
  const clock = { now: () => new Date() };
  const ids = { uuid: randomUUID };
  const deps = { uow: createUnitOfWork(db, { clock, ids }), clock, ids };
  for (const name of Object.keys(SEED_FLOWS)) {
    const put = await putFlow(deps, {
      name,
      by: { type: "system", id: "bench" },
      rules: rules(name, name === "ops-admin" ? "AdministratorAccess" : "S3Access", options.approvers),
    });
    if (!put.ok) {
      throw new Error(put.error.message);
    }
  }
  // Cumulative shares, for picking a flow with one random number.
  let cumulative = 0;
  const flowCases = Object.entries(SEED_FLOWS)
    .map(([name, share]) => {
      cumulative += share;
      return `WHEN f < ${cumulative.toFixed(4)} THEN '${name}'`;
    })
    .join(" ");
  const statements = [
    // Same data on every run.
    "SELECT setseed(0.42)",
    `INSERT INTO "Identity" (id, email, "slackUserId", "displayName", "createdAt", "updatedAt")
       SELECT gen_random_uuid(), 'user' || i || '@example.com', 'U' || lpad(i::text, 9, '0'), 'User ' || i,
              now() - interval '400 days', now()
       FROM generate_series(1, ${options.requesters}) i`,
    `INSERT INTO "Identity" (id, email, "slackUserId", "displayName", "createdAt", "updatedAt")
       SELECT gen_random_uuid(), 'approver' || i || '@example.com', 'UA' || lpad(i::text, 8, '0'), 'Approver ' || i,
              now() - interval '400 days', now()
       FROM generate_series(0, ${options.approvers - 1}) i`,
    // Some people ask far more often than others (user1 most): power(random, 2) skews to the low numbers.
    `CREATE TEMP TABLE seed AS
       WITH raw AS (
         SELECT g,
                1 + floor(${options.requesters} * power(random(), 2))::int AS who,
                random() AS f,
                random() AS s,
                random() AS d,
                -- A year of history, busier lately.
                date_trunc('milliseconds', now() - interval '365 days' * power(random(), 1.3)) AS created
         FROM generate_series(1, ${options.requests}) g
       ), ranked AS (
         SELECT raw.*, row_number() OVER (ORDER BY created DESC) AS recency FROM raw
       )
       SELECT gen_random_uuid() AS id,
              (SELECT id FROM "Identity" WHERE email = 'user' || who || '@example.com') AS requester,
              CASE ${flowCases} ELSE 'break-glass' END AS flow,
              created,
              (ARRAY[900, 1800, 3600, 3600, 7200, 14400])[1 + floor(d * 6)::int] AS duration,
              -- The newest half percent is still open; the rest has ended one way or another. None is
              -- approved (a grant in flight): at rest, the worker's sweeps find nothing to do.
              CASE
                WHEN recency <= ${Math.ceil(options.requests * 0.005)} THEN
                  CASE WHEN s < 0.5 THEN 'pending' ELSE 'active' END
                ELSE
                  CASE WHEN s < 0.70 THEN 'expired' WHEN s < 0.79 THEN 'denied' WHEN s < 0.87 THEN 'cancelled'
                       WHEN s < 0.93 THEN 'timed_out' WHEN s < 0.98 THEN 'revoked' ELSE 'failed' END
              END::"RequestStatus" AS status,
              CASE WHEN s * 10 - floor(s * 10) < 0.8 THEN 'slack' ELSE 'api' END::"RequestSource" AS source,
              1 + floor(random() * ${options.approvers})::int AS reviewer,
              g
       FROM ranked`,
    `INSERT INTO "AccessRequest" (id, "flowName", "flowVersion", "requesterId", "accountId", "permissionSetName",
        reason, ticket, "durationSeconds", status, source, "createdAt", "updatedAt", "pendingUntil",
        "decidedAt", "activatedAt", "expiresAt", "endedAt", "failureReason", version)
     SELECT id, flow, 1, requester, '${SEED_ACCOUNT}',
            CASE WHEN flow = 'ops-admin' THEN 'AdministratorAccess' ELSE 'S3Access' END,
            'Investigating INC-' || g, CASE WHEN g % 3 = 0 THEN 'INC-' || g END, duration, status, source,
            created,
            created + interval '5 minutes',
            -- Open requests are still within their time: pending ones not yet timed out, leases not ended.
            CASE WHEN status = 'pending' THEN now() + interval '1 hour' ELSE created + interval '1 hour' END,
            CASE WHEN status IN ('pending', 'cancelled', 'timed_out') THEN NULL ELSE created + interval '2 minutes' END,
            CASE WHEN status IN ('active', 'expired', 'revoked') THEN created + interval '2 minutes 10 seconds' END,
            CASE WHEN status = 'active' THEN now() + duration * interval '1 second'
                 WHEN status IN ('expired', 'revoked')
                 THEN created + interval '2 minutes 10 seconds' + duration * interval '1 second' END,
            CASE WHEN status IN ('pending', 'approved', 'active') THEN NULL
                 WHEN status = 'revoked' THEN created + interval '20 minutes'
                 WHEN status = 'expired' THEN created + interval '2 minutes 11 seconds' + duration * interval '1 second'
                 ELSE created + interval '3 minutes' END,
            CASE WHEN status = 'failed' THEN 'CreateAccountAssignment FAILED: ConflictException' END,
            CASE WHEN status = 'pending' THEN 0 ELSE 3 END
     FROM seed`,
    `INSERT INTO "Review" (id, "requestId", "reviewerId", decision, comment, "createdAt")
     SELECT gen_random_uuid(), seed.id, a.id,
            CASE WHEN status = 'denied' THEN 'deny' ELSE 'approve' END::"ReviewDecision",
            CASE WHEN status = 'denied' THEN 'not for this ticket' END,
            created + interval '2 minutes'
     FROM seed JOIN "Identity" a ON a.email = 'approver' || (seed.reviewer - 1) || '@example.com'
     WHERE status NOT IN ('pending', 'cancelled', 'timed_out')`,
    `INSERT INTO "Assignment" (id, "accountId", "permissionSetName", "identityId", "createdAt", "updatedAt",
        "lastReconciledAt", "observedPresent", "provisionIntentAt")
     SELECT gen_random_uuid(), '${SEED_ACCOUNT}', r."permissionSetName", r."requesterId", min(r."createdAt"), max(r."updatedAt"),
            max(r."updatedAt"), bool_or(r.status = 'active'), min(r."createdAt")
     FROM "AccessRequest" r WHERE r."activatedAt" IS NOT NULL
     GROUP BY r."permissionSetName", r."requesterId"`,
    `INSERT INTO "Lease" (id, "requestId", "assignmentId", "startsAt", "endsAt", "releasedAt", "createdAt", "updatedAt")
     SELECT gen_random_uuid(), r.id, a.id, r."activatedAt", r."expiresAt", r."endedAt", r."activatedAt", r."updatedAt"
     FROM "AccessRequest" r
     JOIN "Assignment" a ON a."identityId" = r."requesterId" AND a."permissionSetName" = r."permissionSetName"
     WHERE r."activatedAt" IS NOT NULL`,
    "DROP TABLE seed",
    `ANALYZE`,
  ];
  await withAdmin(databaseUrl, async (client) => {
    for (const sql of statements) {
      await client.query(sql);
    }
  });
  const counts = await db.accessRequest.groupBy({ by: ["status"], _count: { _all: true } });
  const top = await db.$queryRaw<{ email: string }[]>`
    SELECT i.email FROM "AccessRequest" r JOIN "Identity" i ON i.id = r."requesterId"
    GROUP BY i.email ORDER BY count(*) DESC, i.email`;
  return {
    requests: counts.reduce((n, c) => n + c._count._all, 0),
    byStatus: Object.fromEntries(counts.map((c) => [c.status, c._count._all])),
    flows: Object.keys(SEED_FLOWS),
    requesters: top.map((t) => t.email),
  };
}
