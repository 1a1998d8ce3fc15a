// The Slack app as a library, for its main.ts, its tests and the ack benchmark (bench/slack-ack).

export { loadSlackConfig, type SlackAppConfig, SlackEnvSchema, type SlackTransport } from "@keyturn/config";
export { createSlackApp, type KeyturnSlackApp, type SlackAppOptions } from "./app.js";
export { createRedisReplayMemory, type ReplayMemory } from "./request-guard.js";
