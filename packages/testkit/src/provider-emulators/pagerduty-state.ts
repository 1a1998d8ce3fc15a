import { createRandom, type Random } from "../aws-emulator/random.js";

// What a PagerDuty account holds for the on-call check: users, schedules, escalation policies and
// the computed on-call entries. PagerDuty computes on-calls from schedules; tests state them
// directly, with the fields the API reports (policy, level, optional schedule, start, end).

export type PdUser = { id: string; name: string; email: string; timeZone: string; role: string };
export type PdSchedule = { id: string; name: string; timeZone: string; description: string };
export type PdEscalationPolicy = { id: string; name: string };
/** `start`/`end` are epoch ms; null means "always" (a permanent, direct escalation target). */
export type PdOnCall = {
  id: string;
  userId: string;
  escalationPolicyId: string;
  scheduleId: string | null;
  level: number;
  start: number | null;
  end: number | null;
};

export type PdUserSeed = { name: string; email: string; id?: string; timeZone?: string; role?: string };
export type PdScheduleSeed = { name: string; id?: string; timeZone?: string; description?: string };
export type PdEscalationPolicySeed = { name: string; id?: string };
export type PdOnCallSeed = {
  userId: string;
  escalationPolicyId: string;
  /** Omitted or null: the user is a direct target of the policy (no schedule). */
  scheduleId?: string | null;
  level?: number;
  start?: Date | number | null;
  end?: Date | number | null;
};

function ms(value: Date | number | null | undefined): number | null {
  if (value === undefined || value === null) {
    return null;
  }
  return value instanceof Date ? value.getTime() : value;
}

export class PagerDutyState {
  readonly users = new Map<string, PdUser>();
  readonly schedules = new Map<string, PdSchedule>();
  readonly policies = new Map<string, PdEscalationPolicy>();
  readonly onCalls: PdOnCall[] = [];
  readonly #random: Random;
  readonly accountTimeZone: string;

  constructor(seed: number, accountTimeZone: string) {
    this.#random = createRandom(seed);
    this.accountTimeZone = accountTimeZone;
  }

  /** PagerDuty ids: "P" and six upper-case letters or digits. */
  #id(taken: (id: string) => boolean): string {
    for (;;) {
      const id = `P${this.#random.alnumUpper(6)}`;
      if (!taken(id)) {
        return id;
      }
    }
  }

  addUser(seed: PdUserSeed): PdUser {
    const id = seed.id ?? this.#id((candidate) => this.users.has(candidate));
    const user: PdUser = {
      id,
      name: seed.name,
      email: seed.email,
      timeZone: seed.timeZone ?? this.accountTimeZone,
      role: seed.role ?? "user",
    };
    this.users.set(id, user);
    return user;
  }

  addSchedule(seed: PdScheduleSeed): PdSchedule {
    const id = seed.id ?? this.#id((candidate) => this.schedules.has(candidate));
    const schedule: PdSchedule = {
      id,
      name: seed.name,
      timeZone: seed.timeZone ?? this.accountTimeZone,
      description: seed.description ?? "",
    };
    this.schedules.set(id, schedule);
    return schedule;
  }

  addEscalationPolicy(seed: PdEscalationPolicySeed): PdEscalationPolicy {
    const id = seed.id ?? this.#id((candidate) => this.policies.has(candidate));
    const policy: PdEscalationPolicy = { id, name: seed.name };
    this.policies.set(id, policy);
    return policy;
  }

  addOnCall(seed: PdOnCallSeed): PdOnCall {
    if (!this.users.has(seed.userId)) {
      throw new Error(`addOnCall: no user ${seed.userId}`);
    }
    if (!this.policies.has(seed.escalationPolicyId)) {
      throw new Error(`addOnCall: no escalation policy ${seed.escalationPolicyId}`);
    }
    const scheduleId = seed.scheduleId ?? null;
    if (scheduleId !== null && !this.schedules.has(scheduleId)) {
      throw new Error(`addOnCall: no schedule ${scheduleId}`);
    }
    const start = ms(seed.start);
    const end = ms(seed.end);
    if (start !== null && end !== null && end <= start) {
      throw new Error("addOnCall: end must be after start");
    }
    const onCall: PdOnCall = {
      id: this.#random.uuid(),
      userId: seed.userId,
      escalationPolicyId: seed.escalationPolicyId,
      scheduleId,
      level: seed.level ?? 1,
      start,
      end,
    };
    this.onCalls.push(onCall);
    return onCall;
  }

  removeOnCall(id: string): void {
    const index = this.onCalls.findIndex((o) => o.id === id);
    if (index >= 0) {
      this.onCalls.splice(index, 1);
    }
  }

  /** Ends an on-call now (a handoff or an override taking over the rest of the shift). */
  endOnCall(id: string, at: number): void {
    const onCall = this.onCalls.find((o) => o.id === id);
    if (onCall === undefined) {
      throw new Error(`endOnCall: no on-call ${id}`);
    }
    onCall.end = at;
  }
}
