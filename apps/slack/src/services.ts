import type { Actor, PrincipalSelector } from "@keyturn/core";
import { type Db, listFlows } from "@keyturn/db";
import type { Logger } from "@keyturn/observability";
import type { AwsAccessConfig, RequestableFlow, SlackIdentity } from "@keyturn/slack";
import type { Deps, Principal } from "@keyturn/usecases";
import type { AfterAckQueue } from "./after-ack-queue.js";

/** What every listener works with; built once in app.ts. */
export type Services = {
  db: Db;
  usecases: Deps;
  identity: SlackIdentity;
  logger: Logger;
  aws: AwsAccessConfig;
  /** Where the work after each ack waits its turn, so it never delays another ack. */
  afterAck: AfterAckQueue;
};

/** The current version of every live flow. */
export async function currentFlows(db: Db): Promise<RequestableFlow[]> {
  const flows = await listFlows(db);
  return flows
    .filter(({ flow }) => flow.archivedAt === null)
    .map(({ flow, version }) => ({
      name: flow.name,
      version: version.version,
      rules: version.rules,
    }));
}

/** The Slack user groups some selectors name: the only memberships worth looking up. */
export function groupIds(selectors: readonly PrincipalSelector[]): string[] {
  return selectors.flatMap((s) => (s.kind === "slack_group" ? [s.id] : []));
}

/** An Actor for core's selector checks before any identity row exists (the id is not compared). */
export function actorOf(principal: Principal): Actor {
  return {
    identityId: "",
    email: principal.email,
    ...(principal.slackUserId === undefined ? {} : { slackUserId: principal.slackUserId }),
    slackGroupIds: principal.slackGroupIds ?? [],
  };
}
