import type { JsonStatement } from "./canonical.js";
import {
  CAPABILITIES,
  CAPABILITY_ACTIONS,
  type Capability,
  isObjectLevelAction,
  isOwnedSid,
} from "./capabilities.js";
import {
  type ContextValue,
  type Evaluation,
  evaluateParsed,
  type ParsedPolicyInput,
  type Principal,
  type StatementRef,
} from "./evaluate.js";
import { readLivePolicy } from "./merge.js";
import { type Policy, parsePolicy } from "./policy.js";
import { compareText, parsePermissionSetPattern } from "./spec.js";

/** Who a policy names, as far as a policy can tell. */
export type PrincipalDescriptor =
  | { kind: "permission-set"; accountId: string; name: string }
  /** A role (its sessions) or an IAM user, by exact ARN. */
  | { kind: "arn"; arn: string }
  /** One assumed-role session, by its session ARN. */
  | { kind: "session"; arn: string }
  | { kind: "pattern"; pattern: string }
  | { kind: "account"; accountId: string }
  /** A principal of the bucket's account that the policy never names. */
  | { kind: "anyone" }
  /** An unauthenticated caller: the capability is public. */
  | { kind: "anonymous" };

export type CapabilityGrant = {
  principal: PrincipalDescriptor;
  /** The capability's actions the bucket policy lets this principal perform. */
  actions: string[];
  allActions: boolean;
  /** The statements that allow it: their Sid, or `#<index>` for a statement without one. */
  grantedBy: string[];
  /** Every statement that allows it is Keyturn's own. */
  owned: boolean;
};

/** A principal some Allow names for the capability, but a Deny overrides for these actions. */
export type ShadowedGrant = {
  principal: PrincipalDescriptor;
  actions: string[];
  grantedBy: string[];
  deniedBy: string[];
};

/**
 * Actions for which AWS's documentation does not decide whether the principal may perform them
 * (DESIGN.md invariant 10): the report says so, names the statements and why, and claims neither.
 */
type UndeterminedAccess = {
  principal: PrincipalDescriptor;
  actions: string[];
  statements: Array<{ statement: string; reason: string }>;
};

export type CapabilityAccess = {
  capability: Capability;
  granted: CapabilityGrant[];
  shadowed: ShadowedGrant[];
  /**
   * Principals of the bucket's account not granted the capability whose own identity policy could
   * still give it to them (an Allow of everything is not explicitly denied for at least one
   * action); an account principal in the bucket policy lands here, since it only delegates to the
   * account's identity policies. Empty means the capability is closed to everyone the bucket
   * policy does not grant it to, administrators included.
   */
  openThroughIdentityPolicies: PrincipalDescriptor[];
  undetermined: UndeterminedAccess[];
};

/** Statements whose principals cannot be evaluated (service, federated principals). */
export type UnanalyzedStatement = { statement: string; reason: string };

export type EffectiveAccess = {
  bucket: string;
  capabilities: CapabilityAccess[];
  unanalyzed: UnanalyzedStatement[];
};

export type EffectiveAccessResult =
  | { ok: true; value: EffectiveAccess }
  | { ok: false; error: { code: "INVALID_LIVE_POLICY"; message: string } };

type Candidate = {
  descriptor: PrincipalDescriptor;
  key: string;
  /** Callers that stand for the principal when probing. */
  samples: Principal[];
  /**
   * The samples are guesses at something the policy cannot tell (a session's role path): if they
   * disagree, the answer is undetermined. Otherwise any sample the policy lets in counts.
   */
  guessed: boolean;
};

const POSITIVE_ARN_OPERATORS = /^(ForAnyValue:)?(ArnLike|ArnEquals|StringLike|StringEquals)(IfExists)?$/;
const ALLOW_EVERYTHING = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};
const PROBE_ROLE = "keyturn-effective-access-probe";
const PROBE_SESSION = "keyturn-probe";
const SAMPLE_SUFFIX = "0123456789abcdef";
const SAMPLE_REGION = "us-west-2";
const SSO_PATH = "role/aws-reserved/sso.amazonaws.com";
const ANONYMOUS: Candidate = {
  descriptor: { kind: "anonymous" },
  key: "anonymous",
  samples: [{ type: "Anonymous" }],
  guessed: false,
};

type Outcome =
  | { status: "allow"; evaluation: Evaluation }
  | { status: "undetermined"; evaluation: Evaluation & { decision: "Undetermined" } }
  | { status: "explicit"; evaluation: Evaluation; sample: Principal }
  | { status: "implicit"; sample: Principal };

/**
 * Which principals can exercise each capability on the bucket, according to its policy alone:
 * every principal an Allow statement names (by `Principal` or by an `aws:PrincipalArn` condition),
 * plus an unnamed principal of the account and an anonymous caller, is probed action by action
 * through the IAM evaluator, as a role session (or user, or anonymous caller) over TLS. Uploads are
 * probed as they come: without an encryption header (the bucket default applies, and multipart
 * parts never carry one) and with SSE-KMS. Principals of another account are probed with an
 * identity policy that allows everything, since their account decides that part. Keyturn's
 * permission-set patterns are recognised and reported as the set; the caller resolves them to the
 * people holding the set right now. Where AWS's documentation leaves an answer open, the action is
 * reported undetermined with the statements and reasons, never as granted or denied.
 */
export function analyzeEffectiveAccess(input: {
  bucket: string;
  policy: string | null;
  /** The bucket's account: where a principal the policy never names is imagined. */
  accountId?: string;
  /** ISO 8601; evaluated as aws:CurrentTime. */
  now?: string;
}): EffectiveAccessResult {
  const read = readLivePolicy(input.policy);
  if (!read.ok) {
    return read;
  }
  const statements = read.value.policy.Statement;
  const document = { ...read.value.policy, Statement: statements };
  const labels = statements.map((statement, index) =>
    typeof statement.Sid === "string" ? statement.Sid : `#${index}`,
  );
  // The Allow statements alone tell whether a denied request had an Allow to override; their
  // labels keep the positions they have in the whole policy.
  const allowIndexes = statements.flatMap((statement, index) =>
    statement.Effect === "Allow" ? [index] : [],
  );
  const allowsOnly = { ...document, Statement: allowIndexes.map((index) => statements[index]) };
  const allowLabels = allowIndexes.map((index) => labels[index] ?? `#${index}`);
  const account = input.accountId ?? "000000000000";
  const { candidates, unanalyzed } = collectCandidates(statements, labels, account);
  for (const always of [anyoneIn(account), ANONYMOUS]) {
    if (!candidates.some((candidate) => candidate.key === always.key)) {
      candidates.push(always);
    }
  }
  candidates.sort((a, b) => compareText(a.key, b.key));
  const bucketArn = `arn:aws:s3:::${input.bucket}`;
  // Parsed once: the probes below evaluate these documents thousands of times.
  const bucketPolicy: ParsedPolicyInput = {
    kind: "resource",
    name: "bucket",
    policy: parsed(document, "resource"),
  };
  const allowPolicy: ParsedPolicyInput = {
    kind: "resource",
    name: "bucket",
    policy: parsed(allowsOnly, "resource"),
  };
  const identity: ParsedPolicyInput = {
    kind: "identity",
    name: "identity",
    policy: parsed(ALLOW_EVERYTHING, "identity"),
  };
  const run = (caller: Principal, action: string, policies: ParsedPolicyInput[]): Evaluation => {
    const resource = isObjectLevelAction(action) ? `${bucketArn}/${PROBE_ROLE}` : bucketArn;
    // Uploads without an encryption header, then with SSE-KMS: either way of writing counts.
    const variants =
      action === "s3:PutObject" ? [{}, { "s3:x-amz-server-side-encryption": "aws:kms" }] : [{}];
    let best: Evaluation | undefined;
    for (const variant of variants) {
      const evaluation = evaluateParsed(
        {
          principal: caller,
          action,
          resource,
          ...(input.accountId === undefined ? {} : { resourceAccount: input.accountId }),
          context: { ...probeContext(caller, input.now), ...variant },
        },
        policies,
      );
      if (best === undefined || rank(evaluation) > rank(best)) {
        best = evaluation;
      }
    }
    return best as Evaluation;
  };
  // Without the bucket's account every principal is taken to be of it (the evaluator's default):
  // its identity policies then count, so the report leans towards showing access, not hiding it.
  const crossAccount = (caller: Principal) =>
    caller.type === "AWS" && input.accountId !== undefined && caller.accountId !== input.accountId;
  const probe = (candidate: Candidate, action: string): Outcome => {
    const outcomes = candidate.samples.map((sample): Outcome => {
      const evaluation = run(
        sample,
        action,
        crossAccount(sample) ? [bucketPolicy, identity] : [bucketPolicy],
      );
      switch (evaluation.decision) {
        case "Allow":
          return { status: "allow", evaluation };
        case "Undetermined":
          return { status: "undetermined", evaluation };
        case "ExplicitDeny":
          return { status: "explicit", evaluation, sample };
        case "ImplicitDeny":
          return { status: "implicit", sample };
        default:
          return assertNever(evaluation);
      }
    });
    const allowed = outcomes.find((outcome) => outcome.status === "allow");
    const open = outcomes.find((outcome) => outcome.status === "undetermined");
    if (
      allowed !== undefined &&
      candidate.guessed &&
      outcomes.some((outcome) => outcome.status !== "allow")
    ) {
      return {
        status: "undetermined",
        evaluation: {
          decision: "Undetermined",
          decidedBy: [],
          undetermined: allowed.evaluation.decidedBy
            .filter((ref) => ref.kind === "resource")
            .map((ref) => ({
              ...ref,
              reason: "the answer depends on the role's path, which a session ARN does not show",
            })),
          explanation: "Undetermined: the role's path is not known.",
        },
      };
    }
    return (
      allowed ??
      open ??
      outcomes.find((outcome) => outcome.status === "explicit") ??
      outcomes[0] ?? {
        status: "implicit",
        sample: { type: "Anonymous" },
      }
    );
  };
  const label = (refs: readonly StatementRef[], names: readonly string[] = labels) =>
    refs.map((ref) => names[ref.index] ?? `#${ref.index}`);

  const capabilities = CAPABILITIES.map((capability): CapabilityAccess => {
    const actions = CAPABILITY_ACTIONS[capability];
    const granted: CapabilityGrant[] = [];
    const shadowed: ShadowedGrant[] = [];
    const open: PrincipalDescriptor[] = [];
    const undetermined: UndeterminedAccess[] = [];
    for (const candidate of candidates) {
      const allowed = new Set<string>();
      const grantedBy = new Set<string>();
      const denied = new Set<string>();
      const deniedBy = new Set<string>();
      const shadowGrantedBy = new Set<string>();
      const unsettled = new Set<string>();
      const reasons = new Map<string, { statement: string; reason: string }>();
      let openThroughIdentity = false;
      const markUndetermined = (action: string, evaluation: Evaluation & { decision: "Undetermined" }) => {
        unsettled.add(action);
        for (const ref of evaluation.undetermined) {
          const statement = labels[ref.index] ?? `#${ref.index}`;
          reasons.set(`${statement}\u0000${ref.reason}`, { statement, reason: ref.reason });
        }
      };
      for (const action of actions) {
        const outcome = probe(candidate, action);
        if (outcome.status === "allow") {
          allowed.add(action);
          for (const sid of label(outcome.evaluation.decidedBy.filter((ref) => ref.kind === "resource"))) {
            grantedBy.add(sid);
          }
        } else if (outcome.status === "undetermined") {
          markUndetermined(action, outcome.evaluation);
        } else if (outcome.status === "explicit") {
          const policies = crossAccount(outcome.sample) ? [allowPolicy, identity] : [allowPolicy];
          const wouldAllow = run(outcome.sample, action, policies);
          if (wouldAllow.decision === "Allow") {
            denied.add(action);
            for (const sid of label(
              wouldAllow.decidedBy.filter((ref) => ref.kind === "resource"),
              allowLabels,
            )) {
              shadowGrantedBy.add(sid);
            }
            for (const sid of label(outcome.evaluation.decidedBy)) {
              deniedBy.add(sid);
            }
          }
        } else if (outcome.sample.type === "AWS" && !crossAccount(outcome.sample)) {
          const throughIdentity = run(outcome.sample, action, [bucketPolicy, identity]);
          if (throughIdentity.decision === "Allow") {
            openThroughIdentity = true;
          } else if (throughIdentity.decision === "Undetermined") {
            markUndetermined(action, throughIdentity);
          }
        }
      }
      if (allowed.size > 0) {
        const sids = [...grantedBy].sort(compareText);
        granted.push({
          principal: candidate.descriptor,
          actions: [...allowed].sort(compareText),
          allActions: allowed.size === actions.length,
          grantedBy: sids,
          owned: sids.length > 0 && sids.every((sid) => isOwnedSid(sid)),
        });
      }
      if (denied.size > 0) {
        shadowed.push({
          principal: candidate.descriptor,
          actions: [...denied].sort(compareText),
          grantedBy: [...shadowGrantedBy].sort(compareText),
          deniedBy: [...deniedBy].sort(compareText),
        });
      }
      if (openThroughIdentity) {
        open.push(candidate.descriptor);
      }
      if (unsettled.size > 0) {
        undetermined.push({
          principal: candidate.descriptor,
          actions: [...unsettled].sort(compareText),
          statements: [...reasons.values()].sort((a, b) => compareText(a.statement, b.statement)),
        });
      }
    }
    return { capability, granted, shadowed, openThroughIdentityPolicies: open, undetermined };
  });
  return { ok: true, value: { bucket: input.bucket, capabilities, unanalyzed } };
}

/** Allow > Undetermined > ImplicitDeny > ExplicitDeny: the most access a request form gets. */
function rank(evaluation: Evaluation): number {
  return { Allow: 3, Undetermined: 2, ImplicitDeny: 1, ExplicitDeny: 0 }[evaluation.decision];
}

/** The request context AWS builds for the caller (IAM "Principal key values"). */
function probeContext(caller: Principal, now: string | undefined): Record<string, ContextValue | undefined> {
  const common = { "aws:SecureTransport": "true", "aws:CurrentTime": now };
  if (caller.type === "Anonymous") {
    return { ...common, "aws:PrincipalType": "Anonymous", "aws:userid": "anonymous" };
  }
  const kind =
    caller.sessionArn !== undefined ? "AssumedRole" : caller.arn.endsWith(":root") ? "Account" : "User";
  return {
    ...common,
    "aws:PrincipalArn": caller.arn,
    "aws:PrincipalAccount": caller.accountId,
    "aws:PrincipalType": kind,
  };
}

/** Every principal the Allow statements name, with callers that stand for it when probing. */
function collectCandidates(
  statements: readonly JsonStatement[],
  labels: readonly string[],
  account: string,
): { candidates: Candidate[]; unanalyzed: UnanalyzedStatement[] } {
  const candidates = new Map<string, Candidate>();
  const unanalyzed: UnanalyzedStatement[] = [];
  const add = (candidate: Candidate) => {
    if (!candidates.has(candidate.key)) {
      candidates.set(candidate.key, candidate);
    }
  };
  statements.forEach((statement, index) => {
    if (statement.Effect !== "Allow") {
      return;
    }
    const name = labels[index] ?? `#${index}`;
    // NotPrincipal with Allow names who is left out; the probes of everyone else cover it.
    const principal = statement.Principal ?? statement.NotPrincipal;
    const awsValues = principal === "*" ? ["*"] : listOf((principal as { AWS?: unknown } | undefined)?.AWS);
    if (principal !== "*" && awsValues.length === 0) {
      unanalyzed.push({
        statement: name,
        reason: "names only service, federated or canonical-user principals",
      });
      return;
    }
    if (statement.NotPrincipal !== undefined) {
      return;
    }
    for (const value of awsValues) {
      if (value === "*") {
        for (const pattern of principalArnValues(statement.Condition)) {
          add(candidateFor(pattern));
        }
      } else if (/^\d{12}$/.test(value) || /^arn:[^:]+:iam::\d{12}:root$/.test(value)) {
        const accountId = /(\d{12})/.exec(value)?.[1] ?? "";
        add(
          accountId === account
            ? {
                ...anyoneIn(accountId),
                descriptor: { kind: "account", accountId },
                key: `account ${accountId}`,
              }
            : {
                descriptor: { kind: "account", accountId },
                key: `account ${accountId}`,
                samples: [roleSession(probeRole(accountId))],
                guessed: false,
              },
        );
      } else {
        add(candidateFor(value));
      }
    }
  });
  return { candidates: [...candidates.values()], unanalyzed };
}

function anyoneIn(accountId: string): Candidate {
  return {
    descriptor: { kind: "anyone" },
    key: "anyone",
    samples: [roleSession(probeRole(accountId))],
    guessed: false,
  };
}

const SESSION_ARN = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

function candidateFor(pattern: string): Candidate {
  const set = parsePermissionSetPattern(pattern);
  if (set !== undefined) {
    const base = `arn:aws:iam::${set.accountId}:${SSO_PATH}`;
    const role = `AWSReservedSSO_${set.name}_${SAMPLE_SUFFIX}`;
    return {
      descriptor: { kind: "permission-set", ...set },
      key: `set ${set.accountId} ${set.name}`,
      samples: [roleSession(`${base}/${role}`), roleSession(`${base}/${SAMPLE_REGION}/${role}`)],
      guessed: false,
    };
  }
  const session = SESSION_ARN.exec(pattern);
  if (session !== null) {
    const [, partition = "aws", accountId = "", roleName = ""] = session;
    // A session ARN leaves out the role's path, which aws:PrincipalArn conditions see.
    const paths = roleName.startsWith("AWSReservedSSO_")
      ? [`${SSO_PATH}/`, `${SSO_PATH}/${SAMPLE_REGION}/`]
      : ["role/"];
    return {
      descriptor: { kind: "session", arn: pattern },
      key: `session ${pattern}`,
      samples: paths.map((path) => ({
        type: "AWS",
        arn: `arn:${partition}:iam::${accountId}:${path}${roleName}`,
        accountId,
        sessionArn: pattern,
      })),
      guessed: paths.length > 1,
    };
  }
  if (/[*?]/.test(pattern)) {
    // `*` may match nothing and `?` any one character, so this ARN fits the pattern.
    return {
      descriptor: { kind: "pattern", pattern },
      key: `pattern ${pattern}`,
      samples: [callerFor(pattern.replaceAll("*", "").replaceAll("?", "0"))],
      guessed: false,
    };
  }
  return {
    descriptor: { kind: "arn", arn: pattern },
    key: `arn ${pattern}`,
    samples: [callerFor(pattern)],
    guessed: false,
  };
}

/** A role's session, an IAM user, or the root user, from the ARN in aws:PrincipalArn. */
function callerFor(arn: string): Principal {
  const accountId = arn.split(":")[4] ?? "";
  if (/:role\//.test(arn)) {
    return roleSession(arn);
  }
  return { type: "AWS", arn, accountId };
}

function roleSession(roleArn: string): Principal {
  const [, partition = "aws", , , accountId = ""] = roleArn.split(":");
  const roleName = roleArn.split("/").at(-1) ?? "";
  return {
    type: "AWS",
    arn: roleArn,
    accountId,
    sessionArn: `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${PROBE_SESSION}`,
  };
}

/** Values of positive `aws:PrincipalArn` tests: the principals an Allow is conditioned on. */
function principalArnValues(condition: unknown): string[] {
  if (typeof condition !== "object" || condition === null) {
    return [];
  }
  const values: string[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    if (!POSITIVE_ARN_OPERATORS.test(operator) || typeof keys !== "object" || keys === null) {
      continue;
    }
    for (const [key, value] of Object.entries(keys)) {
      if (key.toLowerCase() === "aws:principalarn") {
        values.push(...listOf(value));
      }
    }
  }
  return values;
}

/** For documents already validated (readLivePolicy) or written here; anything else is a bug. */
function parsed(document: unknown, kind: "identity" | "resource"): Policy {
  const result = parsePolicy(document, kind);
  if (!result.ok) {
    throw new Error(`effective access: ${result.error.message}`);
  }
  return result.policy;
}

function probeRole(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/${PROBE_ROLE}`;
}

function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter((item): item is string => typeof item === "string");
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
