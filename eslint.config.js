// ESLint runs ONE job here: the type-aware promise rules Biome cannot check (a dropped promise is
// our likeliest silent failure: house-style.md). Biome stays the linter and formatter for the rest.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/generated/**", "**/dist/**", "**/.turbo/**", "**/.tools/**"],
  },
  {
    files: ["apps/*/src/**/*.ts", "packages/*/src/**/*.ts", "bench/**/*.ts"],
    // core's tests are outside its tsconfig (core has no Node types) and test pure, synchronous code.
    ignores: ["packages/core/src/**/*.test.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
);
