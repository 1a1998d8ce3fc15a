import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

const sources = "{apps,packages}/*/src/**";

export default defineConfig({
  test: {
    // Vitest's default (one worker less than the cores) runs the files one by one on two cores,
    // yet most of the suite's time is spent waiting on the AWS quota, child processes and timers,
    // not computing: two files at a time halve it there. Tests assert invariants, never speed, so
    // sharing the cores changes no verdict.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        test: {
          name: "unit",
          include: [`${sources}/*.test.ts`],
          exclude: [`${sources}/*.int.test.ts`, `${sources}/*.e2e.test.ts`, "**/node_modules/**"],
        },
      },
      {
        // Real PostgreSQL and Redis on loopback: each file gets its own database cloned from a
        // migrated template, and its own Redis key prefix.
        test: {
          name: "int",
          include: [`${sources}/*.int.test.ts`, `${sources}/*.e2e.test.ts`],
          globalSetup: ["./packages/testkit/src/database/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
