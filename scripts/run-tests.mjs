// `pnpm test`: lint and typecheck side by side, then every vitest project. Prints the closing line CI counts
// ("N passed, N failed"), read from vitest's JSON report so that a run which executed no test
// cannot pass unnoticed. A failed lint or typecheck counts as one failure each.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { capturedRun } from "./captured-run.mjs";

const run = (args) => spawnSync("pnpm", args, { stdio: "inherit" }).status === 0;

/** Runs the pnpm commands one after another, up to the first that fails; their output kept. */
async function chain(name, commands) {
  let output = "";
  for (const args of commands) {
    const result = await capturedRun("pnpm", args);
    output += result.output;
    if (!result.ok) {
      return { name, ok: false, output };
    }
  }
  return { name, ok: true, output };
}

let failed = 0;
if (!process.argv.includes("--only-tests")) {
  // Side by side (eslint's and tsc's type checking each keep a core busy); the benches belong to
  // no package, so turbo does not check them.
  const checks = await Promise.all([
    chain("lint", [["run", "lint"]]),
    chain("typecheck", [
      ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"],
      ["exec", "tsc", "-p", "bench/tsconfig.json", "--noEmit"],
    ]),
  ]);
  for (const { name, ok, output } of checks) {
    process.stdout.write(output);
    if (!ok) {
      console.error(`${name} failed`);
      failed += 1;
    }
  }
}

const report = "test-results.json";
rmSync(report, { force: true });
const extra = process.argv.slice(2).filter((a) => a !== "--only-tests");
const tests = run([
  "exec",
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...extra,
]);

let passed = 0;
try {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests;
  failed += json.numFailedTests;
  // A file that crashed before running its tests has no assertion results: count it.
  failed += json.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
} catch (error) {
  console.error(`could not read ${report}: ${error.message}`);
  failed += 1;
}
if (!tests && failed === 0) {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
