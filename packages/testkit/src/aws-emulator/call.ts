import { setTimeout as sleep } from "node:timers/promises";
import { type CallLog, isQuotaService } from "./call-log.js";
import type { FaultController } from "./faults.js";
import type { EmulatorState } from "./state.js";
import type { ServiceName } from "./types.js";
import { AwsError, type JsonObject } from "./wire.js";

export type EmulatorContext = {
  readonly state: EmulatorState;
  readonly faults: FaultController;
  readonly calls: CallLog;
};

/** An awsJson1_1 operation: parsed input in, output members out; errors are thrown AwsErrors. */
export type JsonHandler = (input: JsonObject, ctx: EmulatorContext) => JsonObject;

export type CallMeta = {
  service: ServiceName;
  operation: string;
  input: Readonly<Record<string, unknown>>;
  /** Set by the handler once it knows who is calling (S3). */
  caller?: string;
};

export type CallResult<T> = { ok: true; value: T } | { ok: false; error: AwsError };

/**
 * The pipeline every AWS call goes through, whatever its protocol: injected latency, settling of
 * due assignment requests, injected errors, the quota window and random throttling, the handler,
 * then one call-log record. Protocol modules only parse the request and render the result.
 */
export async function performCall<T>(
  ctx: EmulatorContext,
  meta: CallMeta,
  requestId: string,
  handler: () => T | Promise<T>,
): Promise<CallResult<T>> {
  const latency = ctx.faults.drawLatencyMs();
  if (latency > 0) {
    await sleep(latency);
  }
  const at = ctx.state.now();
  ctx.state.settle();
  let quotaExceeded = false;
  let result: CallResult<T>;
  try {
    const injected = ctx.faults.takeInjectedError(meta.service, meta.operation);
    if (injected !== undefined) {
      throw injected;
    }
    if (isQuotaService(meta.service)) {
      const admission = ctx.faults.admitQuotaCall(at);
      quotaExceeded = admission.exceeded;
      if (admission.rejected || ctx.faults.drawThrottle()) {
        throw new AwsError("ThrottlingException", "Rate exceeded");
      }
    }
    result = { ok: true, value: await handler() };
  } catch (error) {
    result = { ok: false, error: toAwsError(meta.service, error) };
  }
  ctx.calls.add({
    at,
    service: meta.service,
    operation: meta.operation,
    outcome: result.ok ? "ok" : result.error.code,
    status: result.ok ? 200 : result.error.status,
    requestId,
    input: meta.input,
    ...(meta.caller === undefined ? {} : { caller: meta.caller }),
    quotaExceeded,
  });
  return result;
}

/** A bug in the emulator still answers like a service would (500), with the cause in the text. */
function toAwsError(service: ServiceName, error: unknown): AwsError {
  if (error instanceof AwsError) {
    return error;
  }
  const code = service === "s3" ? "InternalError" : "InternalServerException";
  const message = error instanceof Error ? `Emulator error: ${error.message}` : "Emulator error";
  return new AwsError(code, message, { status: 500 });
}
