import { createRequire } from "node:module";

// @slack/bolt 5.1 loads @slack/socket-mode at import time, and that loads undici 8, which needs
// Node.js >= 22.19 (zlib zstd, webidl markAsUncloneable) and throws while loading on Node 20. HTTP
// mode never touches undici, so on an older Node a stand-in takes its place in the module cache:
// Bolt loads, HTTP mode works, and Socket Mode fails with a clear message instead. On Node >= 22.19
// this does nothing. Delete it once the workspace pins undici 7 or requires Node 22 (see report).
// Must be imported before anything that imports @slack/bolt.

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const undiciLoads = major > 22 || (major === 22 && minor >= 19);

function standIn(): unknown {
  const refuse = (name: string | symbol) => {
    throw new Error(
      `Slack Socket Mode needs Node.js >= 22.19 (undici 8; used ${String(name)}), this is ${process.version}. ` +
        "Use SLACK_MODE=http here, or a newer Node.js.",
    );
  };
  return new Proxy(
    {},
    {
      get(_target, name) {
        // Module interop probes these while loading; answering them is not "using" undici.
        if (name === "__esModule" || name === "default" || name === "then" || typeof name === "symbol") {
          return undefined;
        }
        return refuse(name);
      },
    },
  );
}

if (!undiciLoads) {
  const require = createRequire(import.meta.url);
  try {
    const fromBolt = createRequire(require.resolve("@slack/bolt"));
    const fromSocketMode = createRequire(fromBolt.resolve("@slack/socket-mode"));
    const undiciPath = fromSocketMode.resolve("undici");
    if (require.cache[undiciPath] === undefined) {
      const module = new (require("node:module") as typeof import("node:module"))(undiciPath);
      module.filename = undiciPath;
      module.loaded = true;
      module.exports = standIn();
      require.cache[undiciPath] = module;
    }
  } catch {
    // Resolution failed (another layout): let Bolt load as it will and report its own error.
  }
}
