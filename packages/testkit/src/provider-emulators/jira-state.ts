import { createRandom, type Random } from "../aws-emulator/random.js";

// A Jira Cloud site as the ticket check sees it: users (whose email may be hidden by their
// profile visibility), API tokens and what each may see, projects, statuses in Jira's three
// status categories, and issues.

export type JiraStatusCategory = "new" | "indeterminate" | "done";

export type JiraUser = {
  accountId: string;
  displayName: string;
  email: string;
  /** Atlassian profile visibility: a hidden email is left out of every answer. */
  emailVisible: boolean;
  active: boolean;
  timeZone: string;
};

export type JiraCredential = {
  email: string;
  apiToken: string;
  accountId: string;
  /** Project keys whose issues this token may browse; undefined: every project. */
  browseProjects: readonly string[] | undefined;
  /** Without the "Browse users and groups" permission user search answers an empty list. */
  browseUsers: boolean;
  /** A token whose account lost access to Jira: every call answers 403. */
  revoked: boolean;
};

export type JiraProject = { id: string; key: string; name: string };
export type JiraStatus = { id: string; name: string; category: JiraStatusCategory };

export type JiraIssue = {
  id: string;
  key: string;
  projectKey: string;
  summary: string;
  statusId: string;
  assigneeAccountId: string | null;
  created: number;
  updated: number;
};

export type JiraUserSeed = { displayName: string; email: string; emailVisible?: boolean; timeZone?: string };
export type JiraCredentialSeed = {
  email: string;
  apiToken: string;
  browseProjects?: readonly string[];
  browseUsers?: boolean;
};
export type JiraIssueSeed = {
  projectKey: string;
  summary: string;
  /** A status name; default "To Do". */
  status?: string;
  assigneeEmail?: string | null;
};

/** Jira's category ids: 2 "To Do" (new), 4 "In Progress" (indeterminate), 3 "Done" (done). */
export const STATUS_CATEGORIES: Readonly<
  Record<JiraStatusCategory, { id: number; name: string; colorName: string }>
> = {
  new: { id: 2, name: "To Do", colorName: "blue-gray" },
  indeterminate: { id: 4, name: "In Progress", colorName: "yellow" },
  done: { id: 3, name: "Done", colorName: "green" },
};

export class JiraState {
  readonly users = new Map<string, JiraUser>();
  readonly credentials: JiraCredential[] = [];
  readonly projects = new Map<string, JiraProject>();
  readonly statuses = new Map<string, JiraStatus>();
  readonly issues = new Map<string, JiraIssue>();
  readonly #random: Random;
  readonly #now: () => number;
  readonly timeZone: string;
  #nextIssueId = 10_000;
  #nextStatusId = 10_000;
  #nextProjectId = 10_000;
  readonly #counters = new Map<string, number>();

  constructor(seed: number, now: () => number, timeZone: string) {
    this.#random = createRandom(seed);
    this.#now = now;
    this.timeZone = timeZone;
    this.addStatus({ name: "To Do", category: "new" });
    this.addStatus({ name: "In Progress", category: "indeterminate" });
    this.addStatus({ name: "Done", category: "done" });
  }

  addUser(seed: JiraUserSeed): JiraUser {
    if (this.userByEmail(seed.email) !== undefined) {
      throw new Error(`addUser: ${seed.email} already exists`);
    }
    // Atlassian account ids look like "5b10ac8d82e05b22cc7d4ef5".
    const user: JiraUser = {
      accountId: this.#random.hex(24),
      displayName: seed.displayName,
      email: seed.email,
      emailVisible: seed.emailVisible ?? true,
      active: true,
      timeZone: seed.timeZone ?? this.timeZone,
    };
    this.users.set(user.accountId, user);
    return user;
  }

  userByEmail(email: string): JiraUser | undefined {
    const wanted = email.toLowerCase();
    return [...this.users.values()].find((u) => u.email.toLowerCase() === wanted);
  }

  addCredential(seed: JiraCredentialSeed): JiraCredential {
    const user = this.userByEmail(seed.email) ?? this.addUser({ displayName: seed.email, email: seed.email });
    const credential: JiraCredential = {
      email: seed.email,
      apiToken: seed.apiToken,
      accountId: user.accountId,
      browseProjects: seed.browseProjects,
      browseUsers: seed.browseUsers ?? true,
      revoked: false,
    };
    this.credentials.push(credential);
    return credential;
  }

  addProject(key: string, name = key): JiraProject {
    if (!/^[A-Z][A-Z0-9_]+$/.test(key)) {
      throw new Error(`addProject: ${key} is not a Jira project key`);
    }
    const project: JiraProject = { id: String(this.#nextProjectId++), key, name };
    this.projects.set(key, project);
    return project;
  }

  addStatus(input: { name: string; category: JiraStatusCategory }): JiraStatus {
    const status: JiraStatus = { id: String(this.#nextStatusId++), ...input };
    this.statuses.set(status.id, status);
    return status;
  }

  statusByName(name: string): JiraStatus {
    const status = [...this.statuses.values()].find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (status === undefined) {
      throw new Error(`no status named ${name}`);
    }
    return status;
  }

  #assignee(email: string | null | undefined): string | null {
    if (email === undefined || email === null) {
      return null;
    }
    const user = this.userByEmail(email);
    if (user === undefined) {
      throw new Error(`no Jira user ${email}`);
    }
    return user.accountId;
  }

  createIssue(seed: JiraIssueSeed): JiraIssue {
    if (!this.projects.has(seed.projectKey)) {
      throw new Error(`createIssue: no project ${seed.projectKey}`);
    }
    const number = (this.#counters.get(seed.projectKey) ?? 0) + 1;
    this.#counters.set(seed.projectKey, number);
    const now = this.#now();
    const issue: JiraIssue = {
      id: String(this.#nextIssueId++),
      key: `${seed.projectKey}-${number}`,
      projectKey: seed.projectKey,
      summary: seed.summary,
      statusId: this.statusByName(seed.status ?? "To Do").id,
      assigneeAccountId: this.#assignee(seed.assigneeEmail),
      created: now,
      updated: now,
    };
    this.issues.set(issue.key, issue);
    return issue;
  }

  /** By key (any case, as Jira accepts) or numeric id. */
  findIssue(idOrKey: string): JiraIssue | undefined {
    const byKey = this.issues.get(idOrKey.toUpperCase());
    if (byKey !== undefined) {
      return byKey;
    }
    return [...this.issues.values()].find((i) => i.id === idOrKey);
  }

  issue(key: string): JiraIssue {
    const issue = this.findIssue(key);
    if (issue === undefined) {
      throw new Error(`no issue ${key}`);
    }
    return issue;
  }

  setAssignee(key: string, email: string | null): JiraIssue {
    const issue = this.issue(key);
    issue.assigneeAccountId = this.#assignee(email);
    issue.updated = this.#now();
    return issue;
  }

  newDeliveryId(): string {
    return this.#random.uuid();
  }
}
