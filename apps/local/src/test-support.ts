// Shared by the main command's e2e tests: its environment on free ports, with no real AWS or Slack.
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** Resolves when nothing listens on `port` any more: it can be bound again. */
export function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export type LocalPorts = { api: number; slack: number; worker: number; emulator: number; fakeSlack: number };

/**
 * The main command's environment for a test: its own database, ports and Redis prefix, and none of
 * the variables that would make it use real AWS or Slack.
 */
export async function localEnv(
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string | undefined>; ports: LocalPorts }> {
  const ports: LocalPorts = {
    api: await freePort(),
    slack: await freePort(),
    worker: await freePort(),
    emulator: await freePort(),
    fakeSlack: await freePort(),
  };
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    API_PORT: String(ports.api),
    SLACK_PORT: String(ports.slack),
    WORKER_HEALTH_PORT: String(ports.worker),
    AWS_EMULATOR_PORT: String(ports.emulator),
    SLACK_FAKE_PORT: String(ports.fakeSlack),
    ...extra,
  };
  for (const key of ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "SLACK_BOT_TOKEN"]) {
    delete env[key];
  }
  return { env, ports };
}
