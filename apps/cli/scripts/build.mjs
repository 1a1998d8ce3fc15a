// Bundles the CLI into one file, dist/keyturn.mjs, that runs on Node >= 22 with nothing installed
// beside it. Quiet on success (its output would mix into `pnpm keyturn ... --json`).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const { version } = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));

await build({
  entryPoints: [`${root}/src/main.ts`],
  outfile: `${root}/dist/keyturn.mjs`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  // Dependencies that are CommonJS inside an ESM bundle still call require().
  banner: {
    js: 'import { createRequire as __keyturnRequire } from "node:module"; const require = __keyturnRequire(import.meta.url);',
  },
  define: { KEYTURN_CLI_VERSION: JSON.stringify(version) },
  legalComments: "none",
  logLevel: "warning",
});
