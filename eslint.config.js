// ESLint runs what Biome cannot check: the type-aware promise rules (a dropped promise is our
// likeliest silent failure: house-style.md), and that the apps never query Prisma themselves.
// Biome stays the linter and formatter for the rest.
import tseslint from "typescript-eslint";

// A query on the Prisma client, named as the apps name it (`db`, `prisma`, `deps.prisma`): apps go
// through use cases or packages/db's query functions instead (issue 14).
const PRISMA_QUERY =
  "(findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|findMany|count|aggregate|groupBy|create|createMany|update|updateMany|upsert|delete|deleteMany)";
const PRISMA_CLIENT = "/^(db|prisma)$/";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/generated/**", "**/dist/**", "**/.turbo/**", "**/.tools/**"],
  },
  {
    files: ["apps/*/src/**/*.ts", "packages/*/src/**/*.ts", "bench/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      // One TypeScript program for every file (tsconfig.eslint.json), not one per package: the
      // packages share most of their sources through workspace imports, and type-checking them
      // once took lint from about 80 s to about 55 s here.
      parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    files: ["apps/*/src/**/*.ts"],
    // Tests and their harnesses set up and inspect state directly; that is what they are for.
    ignores: ["**/*.test.ts", "**/test-support.ts", "**/testing/**", "**/*-harness.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "MemberExpression[property.name=/^\\$(queryRaw|queryRawUnsafe|executeRaw|executeRawUnsafe|transaction)$/]",
          message:
            "Apps do not query the database themselves: call a packages/db query function or a use case.",
        },
        {
          selector: `MemberExpression[property.name=/^${PRISMA_QUERY}$/][object.object.name=${PRISMA_CLIENT}]`,
          message:
            "Apps do not query the database themselves: call a packages/db query function or a use case.",
        },
        {
          selector: `MemberExpression[property.name=/^${PRISMA_QUERY}$/][object.object.property.name=${PRISMA_CLIENT}]`,
          message:
            "Apps do not query the database themselves: call a packages/db query function or a use case.",
        },
      ],
    },
  },
);
