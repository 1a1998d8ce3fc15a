import { defineConfig } from "vitest/config";

const sources = "{apps,packages}/*/src/**";
// Two worker processes held to Identity Center's 20 calls/s as the emulator counts them on
// arrival: the limiter's slots leave that margin on a machine that can wake each caller on time,
// not on one whose other test file keeps both cores busy. It runs after the rest, alone.
const alone = ["apps/worker/src/multi-worker.int.test.ts"];
// Bounds that end a hung test, generous for a machine whose cores are busy elsewhere.
const intBounds = { testTimeout: 180_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    // Two test files at a time on a two-core machine: most int files spend their time waiting
    // (the AWS quota, lease ends, restarts), so two halve the suite's time. Each file has its own
    // database, Redis key prefix, emulators and ports; a test that needs a server to itself
    // (FLUSHALL, a PostgreSQL restart) starts a private one.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "unit",
          // scripts/*.test.mjs: the lint rules' own tests (each rule is shown to fail).
          include: [`${sources}/*.test.ts`, "scripts/*.test.mjs"],
          exclude: [`${sources}/*.int.test.ts`, `${sources}/*.e2e.test.ts`, "**/node_modules/**"],
          // Many talk to the in-process emulators over HTTP: a bound for a hung test, not a speed limit.
          testTimeout: 60_000,
        },
      },
      {
        // Real PostgreSQL and Redis on loopback: each file gets its own database cloned from a
        // migrated template, and its own Redis key prefix.
        test: {
          name: "int",
          include: [`${sources}/*.int.test.ts`, `${sources}/*.e2e.test.ts`],
          exclude: [...alone, "**/node_modules/**"],
          // The migrated template database; the CLI bundle its tests run as a child process.
          globalSetup: [
            "./packages/testkit/src/database/global-setup.ts",
            "./apps/cli/src/testing/global-setup.ts",
          ],
          ...intBounds,
        },
      },
      {
        test: {
          name: "int-alone",
          include: alone,
          globalSetup: ["./packages/testkit/src/database/global-setup.ts"],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          ...intBounds,
        },
      },
    ],
  },
});
