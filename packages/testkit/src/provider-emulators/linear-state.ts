import { createRandom, type Random } from "../aws-emulator/random.js";

// A Linear workspace as the ticket check sees it: teams with their workflow states (Linear's six
// state types), users, personal API keys and what each may see, and issues numbered per team
// ("ENG-42").

export const LINEAR_STATE_TYPES = [
  "triage",
  "backlog",
  "unstarted",
  "started",
  "completed",
  "canceled",
] as const;
export type LinearStateType = (typeof LINEAR_STATE_TYPES)[number];

export type LinearTeam = { id: string; key: string; name: string };
export type LinearWorkflowState = {
  id: string;
  teamId: string;
  name: string;
  type: LinearStateType;
  color: string;
};
export type LinearUser = { id: string; name: string; displayName: string; email: string; active: boolean };
export type LinearApiKey = { key: string; userId: string; teamKeys: readonly string[] | undefined };
export type LinearIssue = {
  id: string;
  teamId: string;
  number: number;
  title: string;
  stateId: string;
  assigneeId: string | null;
  createdAt: number;
  updatedAt: number;
};

export type LinearIssueSeed = {
  teamKey: string;
  title: string;
  state?: string;
  assigneeEmail?: string | null;
};

/** A new team's states, as Linear creates them (Duplicate is a canceled-type state). */
const DEFAULT_STATES: readonly { name: string; type: LinearStateType; color: string }[] = [
  { name: "Triage", type: "triage", color: "#FC7840" },
  { name: "Backlog", type: "backlog", color: "#bec2c8" },
  { name: "Todo", type: "unstarted", color: "#e2e2e2" },
  { name: "In Progress", type: "started", color: "#f2c94c" },
  { name: "Done", type: "completed", color: "#5e6ad2" },
  { name: "Canceled", type: "canceled", color: "#95a2b3" },
  { name: "Duplicate", type: "canceled", color: "#95a2b3" },
];

export class LinearState {
  readonly teams = new Map<string, LinearTeam>();
  readonly states = new Map<string, LinearWorkflowState>();
  readonly users = new Map<string, LinearUser>();
  readonly apiKeys: LinearApiKey[] = [];
  readonly issues = new Map<string, LinearIssue>();
  readonly organizationId: string;
  readonly #random: Random;
  readonly #now: () => number;

  constructor(seed: number, now: () => number) {
    this.#random = createRandom(seed);
    this.#now = now;
    this.organizationId = this.uuid();
  }

  uuid(): string {
    return this.#random.uuid();
  }

  addTeam(key: string, name = key): LinearTeam {
    if (!/^[A-Z][A-Z0-9]{0,6}$/.test(key)) {
      throw new Error(`addTeam: ${key} is not a Linear team key`);
    }
    const team: LinearTeam = { id: this.uuid(), key, name };
    this.teams.set(team.id, team);
    for (const state of DEFAULT_STATES) {
      const id = this.uuid();
      this.states.set(id, { id, teamId: team.id, ...state });
    }
    return team;
  }

  teamByKey(key: string): LinearTeam {
    const team = [...this.teams.values()].find((t) => t.key === key.toUpperCase());
    if (team === undefined) {
      throw new Error(`no Linear team ${key}`);
    }
    return team;
  }

  addUser(input: { name: string; email: string }): LinearUser {
    const user: LinearUser = {
      id: this.uuid(),
      name: input.name,
      displayName: input.name.split(/\s+/)[0]?.toLowerCase() ?? input.name,
      email: input.email,
      active: true,
    };
    this.users.set(user.id, user);
    return user;
  }

  userByEmail(email: string): LinearUser | undefined {
    return [...this.users.values()].find((u) => u.email.toLowerCase() === email.toLowerCase());
  }

  addApiKey(input: { key: string; userEmail: string; teamKeys?: readonly string[] }): LinearApiKey {
    const user =
      this.userByEmail(input.userEmail) ?? this.addUser({ name: input.userEmail, email: input.userEmail });
    const apiKey: LinearApiKey = { key: input.key, userId: user.id, teamKeys: input.teamKeys };
    this.apiKeys.push(apiKey);
    return apiKey;
  }

  stateByName(teamId: string, name: string): LinearWorkflowState {
    const state = [...this.states.values()].find(
      (s) => s.teamId === teamId && s.name.toLowerCase() === name.toLowerCase(),
    );
    if (state === undefined) {
      throw new Error(`no state ${name} in team ${teamId}`);
    }
    return state;
  }

  #assignee(email: string | null | undefined): string | null {
    if (email === undefined || email === null) {
      return null;
    }
    const user = this.userByEmail(email);
    if (user === undefined) {
      throw new Error(`no Linear user ${email}`);
    }
    return user.id;
  }

  createIssue(seed: LinearIssueSeed): LinearIssue {
    const team = this.teamByKey(seed.teamKey);
    const number = [...this.issues.values()].filter((i) => i.teamId === team.id).length + 1;
    const now = this.#now();
    const issue: LinearIssue = {
      id: this.uuid(),
      teamId: team.id,
      number,
      title: seed.title,
      stateId: this.stateByName(team.id, seed.state ?? "Todo").id,
      assigneeId: this.#assignee(seed.assigneeEmail),
      createdAt: now,
      updatedAt: now,
    };
    this.issues.set(issue.id, issue);
    return issue;
  }

  identifier(issue: LinearIssue): string {
    return `${this.teams.get(issue.teamId)?.key ?? "?"}-${issue.number}`;
  }

  /** By UUID or identifier, in any case ("eng-42"). */
  findIssue(id: string): LinearIssue | undefined {
    const byId = this.issues.get(id);
    if (byId !== undefined) {
      return byId;
    }
    const wanted = id.toUpperCase();
    return [...this.issues.values()].find((i) => this.identifier(i) === wanted);
  }

  issue(id: string): LinearIssue {
    const issue = this.findIssue(id);
    if (issue === undefined) {
      throw new Error(`no Linear issue ${id}`);
    }
    return issue;
  }

  touch(issue: LinearIssue): void {
    issue.updatedAt = this.#now();
  }

  setAssignee(issue: LinearIssue, email: string | null): void {
    issue.assigneeId = this.#assignee(email);
    this.touch(issue);
  }
}
