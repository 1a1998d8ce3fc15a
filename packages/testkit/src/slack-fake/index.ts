// Slack on loopback: a fake Web API the real @slack/web-api client (inside Bolt) talks to, and a
// client that sends the app signed slash commands and interactions, as Slack does.
//
//   const slack = await startSlackFake();
//   slack.addUser({ id: "U1", name: "alice", email: "alice@example.com" });
//   new App({ token: slack.botToken, signingSecret, clientOptions: { slackApiUrl: slack.url } });
//   const client = createSlackClient({ appUrl: "http://127.0.0.1:3000", signingSecret, fake: slack });
//   await client.slashCommand({ command: "/access", text: "s3-prod 2h", userId: "U1" });
//   const open = await slack.waitForCall("views.open");

export { SlackInteractionBuilder } from "./interaction-builder.js";
export { startSlackFake } from "./server.js";
export {
  type BlockActionInput,
  createSlackClient,
  SignedSlackClient,
  type SlackClientOptions,
  type SlackDelivery,
  type SlackRawOption,
  type SlackSendOptions,
  type SlackSentRequest,
  type SlashCommandInput,
  type ViewClosedInput,
  type ViewInputPayload,
  type ViewSubmissionInput,
} from "./signed-client.js";
export { slackSignature } from "./signing.js";
export type {
  EnvelopeOptions,
  SocketModeAck,
  SocketModeEnvelopeType,
  SocketModeServer,
} from "./socket-mode.js";
export type {
  ResponseUrlContext,
  SlackBlock,
  SlackCall,
  SlackCallFilter,
  SlackChannel,
  SlackChannelSeed,
  SlackEphemeralMessage,
  SlackFake,
  SlackFakeOptions,
  SlackFault,
  SlackMessage,
  SlackResponse,
  SlackStateValue,
  SlackStateValues,
  SlackUser,
  SlackUserGroupSeed,
  SlackUserSeed,
  SlackView,
} from "./types.js";
export { TRIGGER_TTL_MS } from "./workspace.js";
