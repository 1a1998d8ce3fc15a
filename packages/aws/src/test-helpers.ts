import {
  type AwsEmulator,
  type AwsEmulatorOptions,
  type CallRecord,
  type SeedData,
  type SeedResult,
  startAwsEmulator,
} from "@keyturn/testkit";
import { AppError } from "@keyturn/usecases";
import {
  createIdentityCenter,
  type IdentityCenterAdapter,
  type IdentityCenterOptions,
} from "./identity-center-client.js";
import { createRateLimiter } from "./rate-limiter.js";
import type { TimeSource } from "./time-source.js";

// Shared by this package's tests only (it needs the testkit devDependency).

export const ACCOUNT = "111122223333";
export const OTHER_ACCOUNT = "444455556666";
export const ADMIN_KEY = "AKIAADMINEXAMPLE0001";
const dummyCredentials = { accessKeyId: "AKIAKEYTURNEXAMPLE01", secretAccessKey: "not-checked" };

const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

function standardSeed(): SeedData {
  return {
    accounts: [ACCOUNT, OTHER_ACCOUNT],
    users: [
      { userName: "alice", emails: ["alice@example.com"] },
      { userName: "bob", emails: ["bob@example.com"] },
      // Signs in with a user name that is an address but has no email attribute.
      { userName: "dave@corp.example" },
      // Erin's email is someone else's user name.
      { userName: "erin", emails: ["shared@example.com"] },
      { userName: "shared@example.com" },
      // One user whose email is also their own user name is not ambiguous.
      { userName: "frank@example.com", emails: ["frank@example.com"] },
    ],
    groups: [{ displayName: "Engineering", members: ["bob"] }],
    permissionSets: [
      { name: "S3Access", sessionDuration: "PT1H" },
      { name: "AdministratorAccess", sessionDuration: "PT12H" },
      { name: "Auditor", sessionDuration: "PT1H30M" },
    ],
    callers: [
      {
        accessKeyId: ADMIN_KEY,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
        accountId: ACCOUNT,
        policies: [allowAll],
      },
    ],
  };
}

/** Fast retries and a limiter far above the quota: for tests that are not about pacing. */
const fastOptions = {
  retry: { baseMs: 1, capMs: 5 },
  pollIntervalMs: 10,
} satisfies Partial<IdentityCenterOptions>;

export type World = {
  emu: AwsEmulator;
  seed: SeedResult;
  /** An adapter on the emulator (closed by close()); options override the fast defaults. */
  adapter(options?: Partial<IdentityCenterOptions>): IdentityCenterAdapter;
  close(): Promise<void>;
};

export async function startWorld(
  options: { emulator?: AwsEmulatorOptions; seed?: SeedData | null } = {},
): Promise<World> {
  const emu = await startAwsEmulator({ seed: 7, ...options.emulator });
  const seed =
    options.seed === null
      ? {
          instanceArn: "",
          identityStoreId: "",
          accounts: [],
          users: {},
          groups: {},
          permissionSets: {},
          buckets: [],
        }
      : emu.seed(options.seed ?? standardSeed());
  const adapters: IdentityCenterAdapter[] = [];
  return {
    emu,
    seed,
    adapter: (overrides = {}) => {
      const adapter = createIdentityCenter({
        region: emu.region,
        endpoint: emu.endpoint,
        credentials: dummyCredentials,
        limiter: createRateLimiter({ callsPerSecond: 1000, burst: 100 }),
        ...fastOptions,
        ...overrides,
      });
      adapters.push(adapter);
      return adapter;
    },
    close: async () => {
      for (const adapter of adapters) {
        adapter.close();
      }
      await emu.close();
    },
  };
}

/** The operations the emulator saw, in order, for asserting what a call cost. */
export function operations(emu: AwsEmulator, filter: (call: CallRecord) => boolean = () => true): string[] {
  return emu
    .callLog()
    .filter(filter)
    .map((call) => (call.outcome === "ok" ? call.operation : `${call.operation}:${call.outcome}`));
}

/** The AppError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function appError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) {
      return error;
    }
    throw new Error(`Expected an AppError, got ${String(error)}`, { cause: error });
  }
  throw new Error("Expected the call to fail");
}

/**
 * A clock that only moves when told: `advance` fires due sleeps in time order and lets the
 * promise chains they start run before moving on.
 */
export type FakeTime = TimeSource & {
  advance(ms: number): Promise<void>;
  /** Every duration passed to sleep, in call order. */
  readonly sleeps: number[];
};

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

export function fakeTime(start = 0): FakeTime {
  let now = start;
  const timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  const sleeps: number[] = [];
  let seq = 0;
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => {
        timers.push({ at: now + Math.max(0, ms), seq: seq++, resolve });
      });
    },
    advance: async (ms) => {
      const end = now + ms;
      await flush();
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers[0];
        if (next === undefined || next.at > end) {
          break;
        }
        timers.shift();
        now = next.at;
        next.resolve();
        await flush();
      }
      now = end;
      await flush();
    },
  };
}

/** A TimeSource whose sleeps return at once (and are recorded): for backoff arithmetic. */
export function instantTime(): TimeSource & { readonly sleeps: number[] } {
  const sleeps: number[] = [];
  let now = 0;
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
