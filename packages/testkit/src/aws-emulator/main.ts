import { parseArgs } from "node:util";
import { DEMO_ADMIN_ACCESS_KEY_ID, demoSeed } from "./demo-seed.js";
import { startAwsEmulator } from "./server.js";

// Standalone emulator: `tsx packages/testkit/src/aws-emulator/main.ts [--port 4566] [--host h]
// [--region r] [--seed n] [--quotas] [--empty]`. Flags win over AWS_EMULATOR_PORT / _HOST / _REGION.

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    region: { type: "string" },
    seed: { type: "string" },
    "assignment-delay-ms": { type: "string" },
    quotas: { type: "boolean", default: false },
    empty: { type: "boolean", default: false },
  },
});

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === "") {
    return undefined;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${text}`);
  }
  return value;
}

const port = integer("port", values.port ?? process.env.AWS_EMULATOR_PORT) ?? 4566;
const host = values.host ?? process.env.AWS_EMULATOR_HOST ?? "127.0.0.1";
const region = values.region ?? process.env.AWS_EMULATOR_REGION ?? "eu-west-1";
const seed = integer("seed", values.seed);
const assignmentDelayMs = integer("assignment-delay-ms", values["assignment-delay-ms"]);

const emulator = await startAwsEmulator({
  port,
  host,
  region,
  quotas: { enabled: values.quotas },
  ...(seed === undefined ? {} : { seed }),
  ...(assignmentDelayMs === undefined ? {} : { assignmentDelayMs }),
});

const lines = [`AWS emulator listening on ${emulator.endpoint} (region ${emulator.region})`];
if (!values.empty) {
  const seeded = emulator.seed(demoSeed());
  lines.push(
    `  instance        ${seeded.instanceArn}`,
    `  identity store  ${seeded.identityStoreId}`,
    `  accounts        ${seeded.accounts.join(", ")}`,
    `  users           ${Object.keys(seeded.users).join(", ")}`,
    ...Object.entries(seeded.permissionSets).map(([name, arn]) => `  permission set  ${name}  ${arn}`),
    `  buckets         ${seeded.buckets.join(", ")}`,
    `  admin S3 key    ${DEMO_ADMIN_ACCESS_KEY_ID} (any secret)`,
  );
}
lines.push(`  admin surface   ${emulator.endpoint}/_emulator/state`);
process.stdout.write(`${lines.join("\n")}\n`);

const stop = (): void => {
  emulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
