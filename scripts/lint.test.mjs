// Each rule of `pnpm lint` is proved to fail: a small workspace is laid out in a temporary folder
// with the repository's own lint configuration, checked clean, then given one violation at a time,
// and `scripts/lint.mjs` must fail naming that rule.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIGS = [
  "biome.json",
  "knip.json",
  "eslint.config.js",
  "tsconfig.eslint.json",
  ".dependency-cruiser.cjs",
  "tsconfig.base.json",
];

const pkg = (name, deps = []) =>
  `${JSON.stringify(
    {
      name: `@keyturn/${name}`,
      private: true,
      type: "module",
      exports: { ".": "./src/index.ts" },
      dependencies: Object.fromEntries(deps.map((d) => [`@keyturn/${d}`, "workspace:*"])),
    },
    null,
    2,
  )}\n`;
const tsconfig = '{ "extends": "../../tsconfig.base.json", "include": ["src"] }\n';

/** A clean workspace: core <- usecases <- db <- apps/api, each package wired as pnpm does it. */
const CLEAN = {
  "package.json": `${JSON.stringify({ name: "fixture", private: true, type: "module" }, null, 2)}\n`,
  "pnpm-workspace.yaml": "packages:\n  - apps/*\n  - packages/*\n",
  "packages/core/package.json": pkg("core"),
  "packages/core/tsconfig.json": tsconfig,
  "packages/core/src/index.ts": 'export { label } from "./label.js";\n',
  "packages/core/src/label.ts":
    'export function label(id: string): string {\n  return ["request", id].join(" ");\n}\n',
  "packages/usecases/package.json": pkg("usecases", ["core"]),
  "packages/usecases/tsconfig.json": tsconfig,
  "packages/usecases/src/index.ts": 'export { approve } from "./approve.js";\n',
  "packages/usecases/src/approve.ts": [
    'import { label } from "@keyturn/core";',
    "",
    "export async function approve(id: string): Promise<string> {",
    "  return label(id);",
    "}",
    "",
  ].join("\n"),
  "packages/db/package.json": pkg("db", ["usecases"]),
  "packages/db/tsconfig.json": tsconfig,
  "packages/db/src/index.ts": 'export { save } from "./save.js";\n',
  "packages/db/src/save.ts": [
    'import { approve } from "@keyturn/usecases";',
    "",
    "export async function save(id: string): Promise<string> {",
    "  return await approve(id);",
    "}",
    "",
  ].join("\n"),
  "apps/api/package.json": `${JSON.stringify(
    {
      name: "@keyturn/api",
      private: true,
      type: "module",
      scripts: { start: "node src/main.ts" },
      dependencies: { "@keyturn/db": "workspace:*" },
    },
    null,
    2,
  )}\n`,
  "apps/api/tsconfig.json": tsconfig,
  "apps/api/src/main.ts": [
    'import { save } from "@keyturn/db";',
    "",
    "// main.ts is the composition root: the one place (with config) that reads the environment.",
    'console.log(await save(process.env.REQUEST_ID ?? "r-1"));',
    "",
  ].join("\n"),
};
const LINKS = {
  "packages/usecases/node_modules/@keyturn/core": "packages/core",
  // Linked (as an undeclared package can be, by hoisting) so that the direction rule, not
  // resolution, is what a usecases -> db import trips.
  "packages/usecases/node_modules/@keyturn/db": "packages/db",
  "packages/db/node_modules/@keyturn/usecases": "packages/usecases",
  "apps/api/node_modules/@keyturn/db": "packages/db",
};

const folders = [];
afterEach(() => {
  for (const folder of folders.splice(0)) {
    rmSync(folder, { recursive: true, force: true });
  }
});

function workspace(changes = {}) {
  const dir = mkdtempSync(join(tmpdir(), "keyturn-lint-"));
  folders.push(dir);
  for (const file of CONFIGS) {
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const [link, target] of Object.entries(LINKS)) {
    mkdirSync(dirname(join(dir, link)), { recursive: true });
    symlinkSync(join(dir, target), join(dir, link));
  }
  return dir;
}

function lint(dir, ...checks) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "scripts/lint.mjs"), ...checks],
      { cwd: dir },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : error.code, output: stdout + stderr }),
    );
  });
}

// Bounds for a busy two-core machine (type-aware linting builds a TypeScript program).
const SLOW = 180_000;

describe("pnpm lint", () => {
  it(
    "passes the clean workspace with every check",
    async () => {
      const result = await lint(workspace());
      expect(result.output).not.toMatch(/FAILED/);
      expect(result.code).toBe(0);
    },
    SLOW,
  );

  it(
    "fails a process.env read outside config and main.ts",
    async () => {
      const result = await lint(
        workspace({
          "packages/db/src/save.ts": `${CLEAN["packages/db/src/save.ts"]}\nexport const region = process.env.AWS_REGION;\n`,
        }),
        "biome",
      );
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/packages\/db\/src\/save\.ts.*lint\/style\/noProcessEnv/);
    },
    SLOW,
  );

  it(
    "fails a floating promise",
    async () => {
      const floating = [
        'import { approve } from "@keyturn/usecases";',
        "",
        "export function save(id: string): void {",
        "  approve(id);",
        "}",
        "",
      ].join("\n");
      const result = await lint(workspace({ "packages/db/src/save.ts": floating }), "eslint");
      expect(result.code).toBe(1);
      expect(result.output).toMatch(
        /save\.ts[\s\S]*4:3\s+error[\s\S]*@typescript-eslint\/no-floating-promises/,
      );
    },
    SLOW,
  );

  it(
    "fails an app that queries Prisma itself",
    async () => {
      const querying = [
        'import { save } from "@keyturn/db";',
        "",
        "declare const db: { identity: { findMany(): Promise<unknown[]> } };",
        'console.log(await save("r-1"), await db.identity.findMany());',
        "",
      ].join("\n");
      const result = await lint(workspace({ "apps/api/src/main.ts": querying }), "eslint");
      expect(result.code).toBe(1);
      expect(result.output).toMatch(
        /main\.ts[\s\S]*4:\d+\s+error\s+Apps do not query the database themselves/,
      );
    },
    SLOW,
  );

  it(
    "fails an unused export",
    async () => {
      const result = await lint(
        workspace({
          "packages/core/src/label.ts": `${CLEAN["packages/core/src/label.ts"]}\nexport const UNUSED_LIMIT = 3;\n`,
        }),
        "knip",
      );
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/Unused exports \(1\)\s+UNUSED_LIMIT\s+packages\/core\/src\/label\.ts/);
    },
    SLOW,
  );

  it(
    "fails an import against the dependency direction",
    async () => {
      const upward = [
        'import { label } from "@keyturn/core";',
        'import { save } from "@keyturn/db";',
        "",
        "export async function approve(id: string): Promise<string> {",
        "  return label(await save(id));",
        "}",
        "",
      ].join("\n");
      const result = await lint(workspace({ "packages/usecases/src/approve.ts": upward }), "depcruise");
      expect(result.code).toBe(1);
      expect(result.output).toMatch(
        /usecases-import-only-pure-packages: packages\/usecases\/src\/approve\.ts → packages\/db\/src\/index\.ts/,
      );
    },
    SLOW,
  );
});
