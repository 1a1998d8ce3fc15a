import { createRandom, type Random } from "./random.js";
import type {
  AsyncFailureRule,
  FaultControls,
  FaultRule,
  FaultSettings,
  FaultSettingsPatch,
  QuotaOptions,
  ServiceName,
} from "./types.js";
import { AwsError, defaultStatus } from "./wire.js";

// What AWS shows when it cannot provision a permission set; failures surface only this way,
// as FAILED + FailureReason on the request status, never as an error of the Create call.
export const DEFAULT_ASYNC_FAILURE_REASON = "Received a 404 status error: Not supported error.";

const QUOTA_WINDOW_MS = 1000;

function defaultFaultSettings(quotas: QuotaOptions | undefined): FaultSettings {
  return {
    quotas: {
      enabled: quotas?.enabled ?? false,
      callsPerSecond: quotas?.callsPerSecond ?? 20,
      maxOutstandingCreations: quotas?.maxOutstandingCreations ?? 10,
    },
    throttleProbability: 0,
    conflictProbability: 0,
    asyncFailureProbability: 0,
    asyncFailureReason: DEFAULT_ASYNC_FAILURE_REASON,
    latency: { minMs: 0, maxMs: 0 },
    insecureTransport: false,
  };
}

function checkProbability(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  }
}

function checkCount(count: number | undefined): number {
  const value = count ?? 1;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`count must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Fault switches and the quota window. Every random decision draws from one seeded generator in
 * call order, so the same seed, settings and call sequence give the same schedule. A draw is only
 * made when its probability is non-zero, so switching one fault on does not shift the others.
 */
export class FaultController implements FaultControls {
  readonly #initial: FaultSettings;
  readonly #initialSeed: number;
  #settings: FaultSettings;
  #random: Random;
  #injected: { rule: FaultRule; remaining: number }[] = [];
  #asyncFailures: { kind: "creation" | "deletion"; remaining: number; reason: string | undefined }[] = [];
  /** Times of the calls admitted in the current quota window, oldest first. */
  #window: number[] = [];

  constructor(seed: number, quotas: QuotaOptions | undefined) {
    this.#initial = defaultFaultSettings(quotas);
    this.#initialSeed = seed;
    this.#settings = structuredClone(this.#initial);
    this.#random = createRandom(seed);
  }

  settings(): FaultSettings {
    return structuredClone(this.#settings);
  }

  set(patch: FaultSettingsPatch): void {
    checkProbability("throttleProbability", patch.throttleProbability);
    checkProbability("conflictProbability", patch.conflictProbability);
    checkProbability("asyncFailureProbability", patch.asyncFailureProbability);
    const latency =
      typeof patch.latency === "number" ? { minMs: patch.latency, maxMs: patch.latency } : patch.latency;
    if (latency !== undefined && !(latency.minMs >= 0 && latency.maxMs >= latency.minMs)) {
      throw new RangeError("latency must satisfy 0 <= minMs <= maxMs");
    }
    const current = this.#settings;
    this.#settings = {
      quotas: { ...current.quotas, ...definedOnly(patch.quotas ?? {}) },
      throttleProbability: patch.throttleProbability ?? current.throttleProbability,
      conflictProbability: patch.conflictProbability ?? current.conflictProbability,
      asyncFailureProbability: patch.asyncFailureProbability ?? current.asyncFailureProbability,
      asyncFailureReason: patch.asyncFailureReason ?? current.asyncFailureReason,
      latency: latency ?? current.latency,
      insecureTransport: patch.insecureTransport ?? current.insecureTransport,
    };
  }

  failNext(rule: FaultRule): void {
    this.#injected.push({ rule: { ...rule }, remaining: checkCount(rule.count) });
  }

  failNextAssignment(rule: AsyncFailureRule): void {
    this.#asyncFailures.push({ kind: rule.kind, remaining: checkCount(rule.count), reason: rule.reason });
  }

  reseed(seed: number): void {
    this.#random = createRandom(seed);
  }

  reset(): void {
    this.#settings = structuredClone(this.#initial);
    this.#random = createRandom(this.#initialSeed);
    this.#injected = [];
    this.#asyncFailures = [];
    this.#window = [];
  }

  /** The error queued by failNext for this call, if any (consumes one count). */
  takeInjectedError(service: ServiceName, operation: string): AwsError | undefined {
    const index = this.#injected.findIndex(
      (entry) =>
        entry.rule.operation === operation &&
        (entry.rule.service === undefined || entry.rule.service === service),
    );
    const entry = this.#injected[index];
    if (entry === undefined) {
      return undefined;
    }
    entry.remaining--;
    if (entry.remaining === 0) {
      this.#injected.splice(index, 1);
    }
    const { code, message, status } = entry.rule;
    return new AwsError(code, message ?? `Injected fault: ${code}`, {
      status: status ?? defaultStatus(service, code),
    });
  }

  /**
   * Sliding 1 s window over admitted calls. `exceeded` is recorded even when quotas are off, so a
   * test can assert a client stayed under the quota; `rejected` means the call must be throttled.
   */
  admitQuotaCall(at: number): { exceeded: boolean; rejected: boolean } {
    this.#window = this.#window.filter((time) => time > at - QUOTA_WINDOW_MS);
    const { enabled, callsPerSecond } = this.#settings.quotas;
    const exceeded = this.#window.length >= callsPerSecond;
    const rejected = enabled && exceeded;
    if (!rejected) {
      this.#window.push(at);
    }
    return { exceeded, rejected };
  }

  /** Outstanding creations allowed, or undefined when quotas are off. */
  outstandingCreationLimit(): number | undefined {
    const { enabled, maxOutstandingCreations } = this.#settings.quotas;
    return enabled ? maxOutstandingCreations : undefined;
  }

  drawThrottle(): boolean {
    return this.#chance(this.#settings.throttleProbability);
  }

  drawConflict(): boolean {
    return this.#chance(this.#settings.conflictProbability);
  }

  /** The FailureReason the request should end with, or undefined to let it succeed. */
  drawAsyncFailure(kind: "creation" | "deletion"): string | undefined {
    const index = this.#asyncFailures.findIndex((entry) => entry.kind === kind);
    const queued = this.#asyncFailures[index];
    if (queued !== undefined) {
      queued.remaining--;
      if (queued.remaining === 0) {
        this.#asyncFailures.splice(index, 1);
      }
      return queued.reason ?? this.#settings.asyncFailureReason;
    }
    return this.#chance(this.#settings.asyncFailureProbability)
      ? this.#settings.asyncFailureReason
      : undefined;
  }

  drawLatencyMs(): number {
    const { minMs, maxMs } = this.#settings.latency;
    if (maxMs <= 0) {
      return 0;
    }
    return minMs === maxMs ? minMs : minMs + Math.floor(this.#random.next() * (maxMs - minMs + 1));
  }

  #chance(probability: number): boolean {
    return probability > 0 && this.#random.next() < probability;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
