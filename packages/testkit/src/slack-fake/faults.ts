import type { SlackFault, SlackResponse } from "./types.js";

export type FaultResponse = { status: number; headers: Record<string, string>; body: SlackResponse };

type Rule = { fault: SlackFault; remaining: number };

/** Queued failures per method (`*` matches any), consumed in the order they were added. */
export class FaultQueue {
  readonly #rules = new Map<string, Rule[]>();

  add(method: string, fault: SlackFault): void {
    const remaining = fault.count ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) {
      throw new Error(`failNext(${method}): count must be a positive integer, got ${remaining}`);
    }
    const rules = this.#rules.get(method) ?? [];
    rules.push({ fault, remaining });
    this.#rules.set(method, rules);
  }

  take(method: string): FaultResponse | undefined {
    const fault = this.#takeFrom(method) ?? this.#takeFrom("*");
    return fault === undefined ? undefined : render(fault);
  }

  #takeFrom(key: string): SlackFault | undefined {
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

function render(fault: SlackFault): FaultResponse {
  const status = fault.status ?? (fault.error === "ratelimited" ? 429 : 200);
  const headers: Record<string, string> = {};
  if (status === 429 || fault.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(fault.retryAfterSeconds ?? 1);
  }
  return { status, headers, body: { ok: false, error: fault.error } };
}
