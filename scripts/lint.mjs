// `pnpm lint`: the house style's rules, each with the tool that checks it best.
//   biome      formatting, the general rules, and `process.env` only in config and main.ts files
//   eslint     no floating or misused promises (type-aware: Biome cannot see a promise's type)
//   knip       dead code: unused files, exports, types and dependencies
//   depcruise  dependencies point one way (core <- usecases <- adapters <- apps)
// `node scripts/lint.mjs knip eslint` runs only those. The tools run side by side (eslint's type
// checking dominates), their output is printed per tool, and the exit code is non-zero when any
// fails. Runs in the current directory, with the tools of the repository this script is in (the
// lint tests point it at small fixture trees).
import { fileURLToPath } from "node:url";
import { capturedRun } from "./captured-run.mjs";

const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

const CHECKS = {
  biome: [bin("biome"), ["check", "."]],
  eslint: [bin("eslint"), ["--max-warnings=0", "."]],
  knip: [bin("knip"), ["--no-progress"]],
  depcruise: [
    bin("depcruise"),
    ["apps", "packages", "--config", ".dependency-cruiser.cjs", "--output-type", "err"],
  ],
};

const asked = process.argv.slice(2);
for (const name of asked) {
  if (!(name in CHECKS)) {
    console.error(`unknown check "${name}" (one of ${Object.keys(CHECKS).join(", ")})`);
    process.exit(2);
  }
}
const names = asked.length > 0 ? asked : Object.keys(CHECKS);

async function run(name) {
  const [command, args] = CHECKS[name];
  return { name, ...(await capturedRun(command, args)) };
}

const results = await Promise.all(names.map(run));
let failed = 0;
for (const { name, ok, output, seconds } of results) {
  console.log(`── ${name}: ${ok ? "ok" : "FAILED"} (${seconds} s)`);
  if (!ok || output.trim() !== "") {
    process.stdout.write(output.endsWith("\n") || output === "" ? output : `${output}\n`);
  }
  failed += ok ? 0 : 1;
}
process.exit(failed === 0 ? 0 : 1);
