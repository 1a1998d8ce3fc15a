import { pinSlackUserId } from "@keyturn/db";
import { createSlackPeopleDirectory, createSlackWebClient } from "@keyturn/slack";
import { type SlackFake, startSlackFake } from "@keyturn/testkit";
import { type ReconcileDeps, resolveIdentity, revokeRequest } from "@keyturn/usecases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT, approver, reconcileUntilSettled, useReconcileWorld } from "./test-support.js";
import { approveRequest } from "./testing/access-world.js";

// An identity provider re-provisions a user (SCIM delete + create): Identity Center gives the same
// person a new user id. Keyturn pinned the old one; it must follow the person, and only the person.

const world = useReconcileWorld();
let slack: SlackFake;
let deps: ReconcileDeps;

beforeAll(async () => {
  slack = await startSlackFake();
  deps = {
    ...world.deps,
    people: createSlackPeopleDirectory(createSlackWebClient({ token: slack.botToken, apiUrl: slack.url })),
  };
});
afterAll(async () => {
  await slack.close();
});

/** A person known to Identity Center and to Slack, with a Keyturn identity pinned to both. */
async function person(name: string, slackId: string) {
  const email = `${name}@example.com`;
  world.emulator.seed({ users: [{ userName: name, emails: [email] }] });
  slack.addUser({ id: slackId, name, email });
  const requestId = await approveRequest(deps, { flowName: "s3", email, durationSeconds: 3600 });
  const { assignmentId } = await world.db.lease.findUniqueOrThrow({ where: { requestId } });
  expect(await pinSlackUserId(world.db, { email, slackUserId: slackId, at: new Date() })).toBe("pinned");
  const first = await reconcileUntilSettled(deps, assignmentId);
  expect(first.activated).toEqual([requestId]);
  const identity = await world.db.identity.findUniqueOrThrow({ where: { email } });
  // Their first grant ends, and the assignment is gone.
  await revokeRequest(deps, { requestId, by: approver, asAdmin: true });
  await reconcileUntilSettled(deps, assignmentId);
  return { email, slackId, assignmentId, principal: identity.identityStoreUserId ?? "" };
}

async function grant(email: string) {
  const requestId = await approveRequest(deps, { flowName: "s3", email, durationSeconds: 3600 });
  const { assignmentId } = await world.db.lease.findUniqueOrThrow({ where: { requestId } });
  const report = await reconcileUntilSettled(deps, assignmentId);
  const request = await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } });
  return { requestId, report, request };
}

const assignedTo = (principal: string) =>
  world.emulator.assignments().filter((a) => a.principalId === principal && a.accountId === ACCOUNT);
const createsFor = (principal: string) =>
  world.emulator
    .callLog()
    .filter((c) => c.operation === "CreateAccountAssignment" && c.input.PrincipalId === principal);

describe("an Identity Center user re-provisioned under a new id", () => {
  it("is re-pinned by the same email and Slack user, audited with both ids, and the grant goes on", async () => {
    const fay = await person("fay", "U0FAY");
    const newId = world.emulator.reprovisionUser("fay");

    const { requestId, report, request } = await grant(fay.email);
    expect(request.status).toBe("active");
    expect(report.actions).toEqual(
      expect.arrayContaining(["create_failed", "repinned_principal", "created"]),
    );
    expect(report.repinned).toEqual([
      expect.objectContaining({ email: fay.email, previousPrincipalId: fay.principal, principalId: newId }),
    ]);
    expect(assignedTo(newId)).toHaveLength(1);
    // AWS refused the old id once (the user is gone); nothing more went to it.
    expect(createsFor(fay.principal)).toHaveLength(2);
    expect(createsFor(newId)).toHaveLength(1);
    expect(
      (await world.db.identity.findUniqueOrThrow({ where: { email: fay.email } })).identityStoreUserId,
    ).toBe(newId);
    const repins = await world.db.auditEvent.findMany({ where: { action: "identity.repinned" } });
    expect(repins.map((e) => e.data)).toContainEqual(
      expect.objectContaining({
        email: fay.email,
        slackUserId: fay.slackId,
        previousIdentityStoreUserId: fay.principal,
        identityStoreUserId: newId,
      }),
    );
    expect(
      (await world.db.auditEvent.findMany({ where: { requestId }, orderBy: { seq: "asc" } })).map(
        (e) => e.action,
      ),
    ).toEqual(["request.submitted", "request.approved", "request.activated"]);
  });

  it("is re-pinned when the request is submitted, so the approval creates for the new id at once", async () => {
    const gil = await person("gil", "U0GIL");
    const newId = world.emulator.reprovisionUser("gil");
    const identity = await world.db.identity.findUniqueOrThrow({ where: { email: gil.email } });
    // What the identity.resolve job does while the request waits for its approver.
    const resolved = await resolveIdentity(deps, { identityId: identity.id, verifyPinned: true });
    expect(resolved.ok && resolved.value.repinned?.previousPrincipalId).toBe(gil.principal);

    const { request, report } = await grant(gil.email);
    expect(request.status).toBe("active");
    expect(report.actions).not.toContain("create_failed");
    expect(createsFor(gil.principal)).toHaveLength(1);
    expect(createsFor(newId)).toHaveLength(1);
  });
});

describe("a person who is really gone, or no longer the same", () => {
  it("fails at once, with that reason, when Identity Center has no user with the email any more", async () => {
    const hal = await person("hal", "U0HAL");
    world.emulator.deleteUser("hal");
    const { request, report } = await grant(hal.email);
    expect(request.status).toBe("failed");
    expect(request.failureReason).toMatch(
      /no Identity Center user has the email or user name hal@example.com/,
    );
    expect(request.failureReason).toContain(hal.principal);
    expect(report.repinned).toEqual([]);
    expect(world.emulator.assignments().filter((a) => a.principalId === hal.principal)).toEqual([]);
  });

  it("refuses when the Slack account was deactivated, even though Identity Center has a user with the email", async () => {
    const ida = await person("ida", "U0IDA");
    const newId = world.emulator.reprovisionUser("ida");
    slack.addUser({ id: "U0IDA", name: "ida", email: ida.email, deleted: true });
    const { request } = await grant(ida.email);
    expect(request.status).toBe("failed");
    expect(request.failureReason).toMatch(/Slack user U0IDA is deactivated/);
    expect(assignedTo(newId)).toEqual([]);
    expect(
      (await world.db.identity.findUniqueOrThrow({ where: { email: ida.email } })).identityStoreUserId,
    ).toBe(ida.principal);
  });

  it("refuses, never guessing, when the Slack user's email changed", async () => {
    const jo = await person("jo", "U0JO");
    const newId = world.emulator.reprovisionUser("jo");
    slack.addUser({ id: "U0JO", name: "jo", email: "jo.new@example.com" });
    const { request } = await grant(jo.email);
    expect(request.status).toBe("failed");
    expect(request.failureReason).toMatch(/now has the email jo.new@example.com instead of jo@example.com/);
    expect(assignedTo(newId)).toEqual([]);
  });

  it("keeps granting the pinned user when its email changes in Identity Center, never whoever has the old email now", async () => {
    const kim = await person("kim", "U0KIM");
    world.emulator.setUserEmails("kim", ["kim.renamed@example.com"]);
    // Someone else is given the old address in Identity Center.
    const other = world.emulator.seed({ users: [{ userName: "kim-impostor", emails: [kim.email] }] }).users[
      "kim-impostor"
    ];
    const { request } = await grant(kim.email);
    expect(request.status).toBe("active");
    expect(assignedTo(kim.principal)).toHaveLength(1);
    expect(assignedTo(other ?? "")).toEqual([]);
  });

  it("treats the removal of a deleted user's assignment as done: AWS lists it but refuses to delete it", async () => {
    const lou = await person("lou", "U0LOU");
    const { requestId, request } = await grant(lou.email);
    expect(request.status).toBe("active");
    world.emulator.deleteUser("lou");
    await revokeRequest(deps, { requestId, by: approver, asAdmin: true });
    const { assignmentId } = await world.db.lease.findUniqueOrThrow({ where: { requestId } });
    const report = await reconcileUntilSettled(deps, assignmentId);
    expect(report.actions).toEqual(["deleted"]);
    const audit = await world.db.auditEvent.findMany({ where: { action: "assignment.principal_gone" } });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ assignmentId, principalId: lou.principal }),
    );
    expect((await world.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe(
      "revoked",
    );
  });
});
