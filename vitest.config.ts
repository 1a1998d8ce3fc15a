import { defineConfig } from "vitest/config";

const sources = "{apps,packages}/*/src/**";

export default defineConfig({
  test: {
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
