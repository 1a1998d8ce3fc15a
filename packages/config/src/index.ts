export { type ApiConfig, ApiEnvSchema, loadApiConfig } from "./api.js";
export {
  BoolFlag,
  DatabaseFragment,
  type IntegrationsConfig,
  IntegrationsFragment,
  KeyturnRoleArn,
  LogFragment,
  LogLevelSchema,
  Port,
  RedisPrefix,
  RedisUrl,
} from "./fragments.js";
export { type Loaded, parseEnv } from "./load.js";
export { type LocalConfig, LocalEnvSchema, loadLocalConfig } from "./local.js";
export { loadSlackConfig, type SlackAppConfig, SlackEnvSchema, type SlackTransport } from "./slack.js";
export { loadWorkerConfig, type WorkerConfig, WorkerEnvSchema } from "./worker.js";
