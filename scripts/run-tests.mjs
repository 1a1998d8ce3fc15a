// Runs the whole suite and prints the closing line CI counts ("N passed, N failed"), read from
// vitest's JSON report so that a run which executed no test cannot pass unnoticed.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

const report = "test-results.json";
rmSync(report, { force: true });
const args = [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
];
const run = spawnSync("pnpm", ["exec", ...args], { stdio: "inherit" });

let passed = 0;
let failed = 0;
try {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests;
  failed = json.numFailedTests + (json.numRuntimeErrorTests ?? 0);
  const brokenFiles = json.testResults.filter(
    (f) => f.status === "failed" && f.assertionResults.length === 0,
  );
  failed += brokenFiles.length;
} catch (error) {
  console.error(`could not read ${report}: ${error.message}`);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
