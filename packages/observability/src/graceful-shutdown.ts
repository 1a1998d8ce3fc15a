import type { Logger } from "./logger.js";

/**
 * Stops the process on its first SIGINT or SIGTERM: runs `close` once, then exits 0, or 1 when
 * closing failed. A close that hangs past `timeoutMs` exits 1 anyway: an orchestrator's stop must
 * not wait on a stuck socket forever. Later signals are ignored while closing.
 */
export function exitOnSignal(
  logger: Logger,
  close: () => Promise<void>,
  options: { timeoutMs: number; message?: string },
): void {
  let closing = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (closing) {
      return;
    }
    closing = true;
    logger.info({ signal }, options.message ?? "shutting down");
    const force = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, "shutdown timed out; exiting");
      process.exit(1);
    }, options.timeoutMs);
    force.unref();
    let code = 0;
    try {
      await close();
    } catch (error) {
      logger.error({ err: error }, "error during shutdown");
      code = 1;
    }
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      void stop(signal);
    });
  }
}
