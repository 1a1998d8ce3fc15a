// Faults a test switches on for the next calls of one operation (or any, with "*"). Each emulator
// renders `rate-limit` and `server-error` in its provider's own error shape; the transport faults
// (latency, hang, malformed, truncated, disconnect) are the same for every provider.

export type ProviderFault =
  /** The provider's own rate-limit answer (status, body and headers as it documents them). */
  | { kind: "rate-limit"; retryAfterSeconds?: number }
  /** The provider's own 5xx answer. Default 500. */
  | { kind: "server-error"; status?: 500 | 502 | 503 | 504 }
  /** Any status with a raw body, for the shapes the two above do not cover. */
  | { kind: "status"; status: number; body: string; headers?: Readonly<Record<string, string>> }
  /** Wait, then answer normally. */
  | { kind: "latency"; ms: number }
  /** Never answer; the connection stays open until the client gives up or the emulator closes. */
  | { kind: "hang" }
  /** 200 with a JSON content type and a body that is not JSON. */
  | { kind: "malformed" }
  /** The real answer's headers and first half of its body, then the connection is cut. */
  | { kind: "truncated" }
  /** The connection is cut before any answer. */
  | { kind: "disconnect" };

type Rule = { fault: ProviderFault; remaining: number };

export class FaultQueue {
  readonly #rules = new Map<string, Rule[]>();

  /** `times` (default 1) next calls of `operation` ("*" for any) get `fault`, oldest rule first. */
  add(operation: string, fault: ProviderFault, times = 1): void {
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`failNext(${operation}): times must be a positive integer, got ${times}`);
    }
    if (fault.kind === "latency" && !(fault.ms >= 0)) {
      throw new RangeError(`failNext(${operation}): latency must be >= 0 ms, got ${fault.ms}`);
    }
    const rules = this.#rules.get(operation) ?? [];
    rules.push({ fault, remaining: times });
    this.#rules.set(operation, rules);
  }

  take(operation: string): ProviderFault | undefined {
    return this.#takeFrom(operation) ?? this.#takeFrom("*");
  }

  clear(): void {
    this.#rules.clear();
  }

  #takeFrom(key: string): ProviderFault | undefined {
    const rules = this.#rules.get(key);
    const rule = rules?.[0];
    if (rules === undefined || rule === undefined) {
      return undefined;
    }
    rule.remaining--;
    if (rule.remaining === 0) {
      rules.shift();
    }
    return rule.fault;
  }
}
