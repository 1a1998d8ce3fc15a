import type { PeopleDirectory, SlackPerson } from "@keyturn/usecases";
import type { WebClient } from "@slack/web-api";
import { callSlack, SlackCallError } from "./slack-api-errors.js";

/**
 * Slack's current view of a person (users.info), for the worker's checks before an identity's
 * Identity Center pin moves: a deactivated account or an email that changed stops the move.
 */
export function createSlackPeopleDirectory(client: WebClient): PeopleDirectory {
  return {
    async slackUser(slackUserId): Promise<SlackPerson> {
      let user: Awaited<ReturnType<WebClient["users"]["info"]>>["user"];
      try {
        user = (await callSlack("users.info", () => client.users.info({ user: slackUserId }))).user;
      } catch (error) {
        if (error instanceof SlackCallError && error.slackError === "user_not_found") {
          return { status: "not_found" };
        }
        throw error;
      }
      if (user === undefined) {
        return { status: "not_found" };
      }
      if (user.deleted === true) {
        return { status: "deactivated" };
      }
      const email = user.profile?.email?.trim().toLowerCase();
      return { status: "active", email: email === undefined || email === "" ? null : email };
    },
  };
}
