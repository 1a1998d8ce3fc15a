// A child process whose output is kept instead of printed, so that commands run side by side
// (pnpm lint's tools; lint beside typecheck in pnpm test) print one after another.
import { spawn } from "node:child_process";

/** Runs `command`; resolves (never rejects) with whether it exited 0, its output and how long it took. */
export function capturedRun(command, args) {
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk) => {
      output += chunk;
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error) =>
      resolve({ ok: false, output: `${output}${error.message}\n`, seconds: seconds() }),
    );
    child.on("close", (code) => resolve({ ok: code === 0, output, seconds: seconds() }));
  });
}
