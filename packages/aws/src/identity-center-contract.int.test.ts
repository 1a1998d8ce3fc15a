import {
  IDENTITY_CENTER_BACKENDS,
  type IdentityCenterBackend,
  type SeededIdentityCenter,
} from "@keyturn/testkit/aws-backends";
import type { ChangeStatus } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentityCenter, type IdentityCenterAdapter } from "./identity-center-client.js";
import { createRateLimiter } from "./rate-limiter.js";
import { appError } from "./test-helpers.js";

// One contract for the Identity Center adapter, run against the project's emulator and against
// moto, an AWS emulator written by others: what the adapter makes of the real SDK's answers must
// not depend on whose reading of the AWS API reference sits behind the endpoint. Where moto
// departs from the API reference, the departure is written down here (MOTO_GAPS) with the
// reference it departs from, and asserted, so a moto that fixes it makes the test say so.

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";

// SSO Admin API reference, PermissionSet.PermissionSetArn (and every operation's PermissionSetArn
// parameter): pattern arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-
// [a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}. The same pattern is in @aws-sdk/client-sso-admin's model.
const PERMISSION_SET_ARN =
  /^arn:aws:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;

/**
 * moto 5.2.1 departs from the reference here:
 * - PermissionSetArn is `arn:aws:sso:::instance/ssoins-<16>/ps-<16>` (the instance's ARN with the
 *   set's id appended), not `arn:aws:sso:::permissionSet/ssoins-<16>/ps-<16>`. Keyturn treats set
 *   ARNs as opaque and finds them by name, so nothing here depends on the form.
 * - CreateAccountAssignment and DeleteAccountAssignment answer SUCCEEDED at once (AWS answers
 *   IN_PROGRESS and finishes later); both are valid answers, and the adapter waits either way.
 * - DescribePermissionSet of a set created without SessionDuration answers the number 3600, where
 *   the reference's SessionDuration is an ISO-8601 string (the emulator answers "PT1H"). The sets
 *   here are created with one.
 * - CreateAccountAssignment accepts a permission set ARN or a principal that does not exist, and a
 *   second create of an existing assignment lists it twice (an assignment is one per account, set
 *   and principal); ListAccountAssignmentCreationStatus fails with HTTP 500. Keyturn resolves sets
 *   by name, never creates what is there, and does not call the latter.
 * - identitystore GetUserId by `emails.value` fails with HTTP 500 (a Python TypeError in moto's
 *   get_user_id: `for email in user.Emails`, Emails being None) as soon as any user of the store
 *   has no email, where the Identity Store API reference answers the user or
 *   ResourceNotFoundException. So every user seeded here has an email; the one who signs in with
 *   an address as user name has a different address as email (so has the one whose user name is
 *   another user's email).
 */
const MOTO_PERMISSION_SET_ARN = /^arn:aws:sso:::instance\/ssoins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;

const SEED = {
  accounts: [ACCOUNT, OTHER_ACCOUNT],
  users: [
    { userName: "alice", emails: ["alice@example.com"] },
    { userName: "bob", emails: ["bob@example.com"] },
    { userName: "carol", emails: ["carol@example.com"] },
    // Signs in with a user name that is an address, not the address of his email attribute.
    { userName: "dave@corp.example", emails: ["dave.smith@corp.example"] },
    // Erin's email is someone else's user name.
    { userName: "erin", emails: ["shared@example.com"] },
    { userName: "shared@example.com", emails: ["someone.else@example.com"] },
  ],
  permissionSets: [
    { name: "S3Access", sessionDuration: "PT1H" },
    { name: "Auditor", sessionDuration: "PT1H30M" },
  ],
};

/** Polls deletionStatus as the reconciler does across runs, until AWS reports an end. */
async function deletionOutcome(adapter: IdentityCenterAdapter, first: ChangeStatus): Promise<ChangeStatus> {
  let status: ChangeStatus | null = first;
  for (let poll = 0; status?.status === "IN_PROGRESS" && poll < 500; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    status = await adapter.deletionStatus(first.requestId);
  }
  if (status === null) {
    throw new Error(`AWS forgot deletion ${first.requestId}`);
  }
  return status;
}

describe.each(IDENTITY_CENTER_BACKENDS)("the Identity Center adapter against $name", ({ start }) => {
  let backend: IdentityCenterBackend;
  let seeded: SeededIdentityCenter;
  let adapter: IdentityCenterAdapter;

  beforeAll(async () => {
    backend = await start();
    seeded = await backend.seed(SEED);
    adapter = createIdentityCenter({
      region: backend.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
      limiter: createRateLimiter({ callsPerSecond: 1000, burst: 100 }),
      retry: { baseMs: 1, capMs: 5 },
      pollIntervalMs: 10,
    });
  }, 120_000);

  afterAll(async () => {
    adapter?.close();
    await backend?.close();
  });

  it("finds the instance and a permission set by name, with its session duration", async () => {
    expect(await adapter.permissionSet("S3Access")).toEqual({
      arn: seeded.permissionSets.S3Access,
      sessionDurationSeconds: 3600,
    });
    expect(await adapter.permissionSet("Auditor")).toEqual({
      arn: seeded.permissionSets.Auditor,
      sessionDurationSeconds: 5400,
    });
    expect(seeded.permissionSets.S3Access).toMatch(
      backend.name === "moto" ? MOTO_PERMISSION_SET_ARN : PERMISSION_SET_ARN,
    );
  });

  it("reports a set that does not exist as PERMISSION_SET_NOT_FOUND", async () => {
    const error = await appError(adapter.permissionSet("NoSuchSet"));
    expect([error.code, error.retryable]).toEqual(["PERMISSION_SET_NOT_FOUND", false]);
  });

  it("finds users by email, falls back to the user name, and refuses the missing and the ambiguous", async () => {
    expect(await adapter.findUserByEmail("alice@example.com")).toEqual({
      ok: true,
      value: { userId: seeded.users.alice, userName: "alice" },
    });
    expect(await adapter.findUserByEmail("dave@corp.example")).toEqual({
      ok: true,
      value: { userId: seeded.users["dave@corp.example"], userName: "dave@corp.example" },
    });
    expect(await adapter.findUserByEmail("mallory@example.com")).toMatchObject({
      ok: false,
      error: { code: "IDENTITY_NOT_FOUND" },
    });
    expect(await adapter.findUserByEmail("shared@example.com")).toMatchObject({
      ok: false,
      error: { code: "IDENTITY_AMBIGUOUS" },
    });
  });

  it("creates an assignment, sees it in the account only, and removes it", async () => {
    const target = { accountId: ACCOUNT, permissionSetName: "S3Access", principalId: seeded.users.bob ?? "" };
    expect(await adapter.hasAssignment(target)).toBe(false);

    const sent = Date.now();
    const created = await adapter.createAssignment(target);
    // AWS's status carries CreatedDate (AccountAssignmentOperationStatus), and both backends send it.
    expect(created).toEqual({
      status: "SUCCEEDED",
      requestId: expect.any(String),
      createdAt: expect.any(Date),
    });
    // When AWS started the assignment (the request's real activation time): around the call,
    // allowing for second-granular timestamps.
    const createdAt = created.status === "SUCCEEDED" ? (created.createdAt?.getTime() ?? 0) : 0;
    expect(createdAt).toBeGreaterThanOrEqual(sent - 2_000);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 2_000);
    expect(await adapter.hasAssignment(target)).toBe(true);
    expect(await adapter.hasAssignment({ ...target, accountId: OTHER_ACCOUNT })).toBe(false);
    expect(await adapter.hasAssignment({ ...target, permissionSetName: "Auditor" })).toBe(false);
    expect(await adapter.listAssignments({ accountId: ACCOUNT, permissionSetName: "S3Access" })).toEqual([
      { principalType: "USER", principalId: seeded.users.bob },
    ]);

    const started = await adapter.startDeletion(target);
    expect(["IN_PROGRESS", "SUCCEEDED"]).toContain(started.status);
    expect(await deletionOutcome(adapter, started)).toEqual({
      status: "SUCCEEDED",
      requestId: started.requestId,
      createdAt: expect.any(Date),
    });
    expect(await adapter.hasAssignment(target)).toBe(false);
    expect(await adapter.listAssignments({ accountId: ACCOUNT, permissionSetName: "S3Access" })).toEqual([]);
  });

  it("waits for a removal to finish when asked to (deleteAssignment)", async () => {
    const target = {
      accountId: ACCOUNT,
      permissionSetName: "Auditor",
      principalId: seeded.users.carol ?? "",
    };
    expect((await adapter.createAssignment(target)).status).toBe("SUCCEEDED");
    expect((await adapter.deleteAssignment(target)).status).toBe("SUCCEEDED");
    expect(await adapter.hasAssignment(target)).toBe(false);
  });

  it("answers a removal of an assignment that does not exist as a request that ended, not an error", async () => {
    // The backends disagree on the wire (moto: ResourceNotFoundException; the emulator: a request
    // that SUCCEEDS) and the API reference does not decide; the adapter answers an ended request
    // either way (FAILED for the refusal), after which the reconciler checks the assignment is gone
    // (reconcile-contract.int.test.ts), instead of failing the removal for good.
    const target = {
      accountId: ACCOUNT,
      permissionSetName: "S3Access",
      principalId: seeded.users.erin ?? "",
    };
    const expected = backend.name === "moto" ? "FAILED" : "SUCCEEDED";
    expect((await deletionOutcome(adapter, await adapter.startDeletion(target))).status).toBe(expected);
    expect((await adapter.deleteAssignment(target)).status).toBe(expected);
    expect(await adapter.hasAssignment(target)).toBe(false);
  });

  it("answers null for a deletion request id AWS does not know", async () => {
    expect(await adapter.deletionStatus("00000000-0000-4000-8000-000000000000")).toBeNull();
  });
});
