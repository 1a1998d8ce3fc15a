import { randomUUID } from "node:crypto";
import { AppError } from "@keyturn/usecases";
import { describe, expect, it } from "vitest";
import {
  assertHandlers,
  type Handlers,
  JOB_NAMES,
  jobCatalog,
  type Payload,
  parsePayload,
  priorityOf,
  QUEUE_NAMES,
  RECONCILE_CAUSES,
  REMOVAL_CAUSES,
} from "./catalog.js";

const reconcile = (cause: Payload<"assignment.reconcile">["cause"]): Payload<"assignment.reconcile"> => ({
  assignmentId: randomUUID(),
  requestId: randomUUID(),
  cause,
});

const validPayloads: { [K in (typeof JOB_NAMES)[number]]: Payload<K> } = {
  "assignment.reconcile": reconcile("approved"),
  "identity.resolve": { identityId: randomUUID() },
  "request.notify": { requestId: randomUUID(), event: "RequestApproved", auditEventId: randomUUID() },
  "request.time-out": { requestId: randomUUID() },
  "sweep.leases": {},
  "sweep.drift": {},
  "cutoff.arm": {},
  "bucket.apply": { bucket: "story-data" },
  "request.on-call-check": { requestId: randomUUID() },
  "sweep.tickets": {},
  "signin.notify": { signInId: randomUUID() },
};

const noop = async () => {};
const allHandlers: Handlers = {
  "assignment.reconcile": noop,
  "identity.resolve": noop,
  "request.notify": noop,
  "request.time-out": noop,
  "sweep.leases": noop,
  "sweep.drift": noop,
  "cutoff.arm": noop,
  "bucket.apply": noop,
  "request.on-call-check": noop,
  "sweep.tickets": noop,
  "signin.notify": noop,
};

describe("the job catalog", () => {
  it.each(JOB_NAMES)("%s has a schema, retry options, a priority and a known queue", (name) => {
    const entry = jobCatalog[name];
    expect(parsePayload(name, validPayloads[name]).ok).toBe(true);
    expect(entry.options.attempts).toBeGreaterThan(1);
    expect(entry.options.backoff).toMatchObject({ type: "exponential" });
    expect(entry.options.backoff.delay).toBeGreaterThan(0);
    expect(entry.options.backoff.jitter).toBeGreaterThan(0);
    expect(entry.options.removeOnComplete).toHaveProperty("count");
    expect(entry.options.removeOnFail).toHaveProperty("count");
    // BullMQ runs un-prioritized (0) jobs before all others, so every job needs a band.
    const priority = priorityOf(name, validPayloads[name]);
    expect(Number.isInteger(priority)).toBe(true);
    expect(priority).toBeGreaterThanOrEqual(1);
    expect(QUEUE_NAMES).toContain(entry.queue);
  });

  it("ranks every removal cause ahead of every other reconcile cause (lower number first)", () => {
    const removals = RECONCILE_CAUSES.filter((cause) => REMOVAL_CAUSES.has(cause));
    expect(removals.sort()).toEqual(["expired", "lease_end", "released"]);
    const worstRemoval = Math.max(
      ...removals.map((cause) => priorityOf("assignment.reconcile", reconcile(cause))),
    );
    for (const cause of RECONCILE_CAUSES.filter((c) => !REMOVAL_CAUSES.has(c))) {
      expect(priorityOf("assignment.reconcile", reconcile(cause))).toBeGreaterThan(worstRemoval);
    }
    expect(priorityOf("assignment.reconcile", reconcile("lease_end"))).toBeLessThan(
      priorityOf("assignment.reconcile", reconcile("approved")),
    );
  });

  it("ranks removals ahead of every other job but the session cut-offs, which go first of all", () => {
    const removal = priorityOf("assignment.reconcile", reconcile("expired"));
    const cutoffJobs: readonly string[] = ["cutoff.arm", "bucket.apply"];
    for (const name of JOB_NAMES.filter((n) => n !== "assignment.reconcile")) {
      if (cutoffJobs.includes(name)) {
        expect(priorityOf(name, validPayloads[name])).toBeLessThan(removal);
      } else {
        expect(priorityOf(name, validPayloads[name])).toBeGreaterThan(removal);
      }
    }
  });

  it.each([
    ["assignment.reconcile", { ...validPayloads["assignment.reconcile"], token: "xoxb-123" }, "token"],
    ["request.notify", { ...validPayloads["request.notify"], secret: "s3cr3t" }, "secret"],
    ["request.time-out", { requestId: randomUUID(), slackSigningSecret: "abc" }, "slackSigningSecret"],
    ["sweep.leases", { awsSecretAccessKey: "wJalr" }, "awsSecretAccessKey"],
    ["sweep.drift", { extra: 1 }, "extra"],
  ] as const)("%s refuses an unknown key (%s) and does not echo its value", (name, payload, key) => {
    const parsed = parsePayload(name, payload);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.issues).toContain(key);
      for (const value of Object.values(payload)) {
        if (typeof value === "string" && !validPayloadValues.has(value)) {
          expect(parsed.issues).not.toContain(value);
        }
      }
    }
  });

  it.each([
    ["assignment.reconcile", { assignmentId: "not-a-uuid", cause: "approved" }],
    ["assignment.reconcile", { assignmentId: randomUUID(), cause: "granted" }],
    ["assignment.reconcile", { cause: "approved" }],
    [
      "request.notify",
      { requestId: randomUUID(), event: "has spaces: free text", auditEventId: randomUUID() },
    ],
    ["request.notify", { requestId: randomUUID(), event: "RequestApproved" }],
    ["request.time-out", {}],
    ["sweep.leases", null],
  ] as const)("%s refuses a malformed payload %j", (name, payload) => {
    expect(parsePayload(name, payload).ok).toBe(false);
  });

  it("accepts a handler for every job", () => {
    expect(() => assertHandlers(allHandlers)).not.toThrow();
  });

  it("a handler map missing a job does not compile, and fails at runtime", () => {
    // @ts-expect-error "sweep.drift" has no handler (checked by `tsc`, which includes tests)
    const missing: Handlers = {
      "assignment.reconcile": noop,
      "request.notify": noop,
      "request.time-out": noop,
      "sweep.leases": noop,
    };
    expect(() => assertHandlers(missing)).toThrow(/sweep\.drift/);
  });

  it("assertHandlers throws naming each job without a handler", () => {
    const { "request.notify": _notify, "sweep.drift": _drift, ...partial } = allHandlers;
    const attempt = () => assertHandlers(partial);
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(/request\.notify.*sweep\.drift/);
    expect(() => assertHandlers({ ...allHandlers, "sweep.leases": "not a function" })).toThrow(
      /sweep\.leases/,
    );
  });
});

const validPayloadValues = new Set(
  Object.values(validPayloads).flatMap((payload) =>
    Object.values(payload).filter((value): value is string => typeof value === "string"),
  ),
);
