import type { JsonStatement } from "./canonical.js";
import {
  CAPABILITIES,
  CAPABILITY_ACTIONS,
  type Capability,
  isObjectLevelAction,
  isOwnedSid,
} from "./capabilities.js";
import { type ContextValue, type Evaluation, evaluateParsed, type ParsedPolicyInput } from "./evaluate.js";
import { readLivePolicy } from "./merge.js";
import { type Policy, parsePolicy } from "./policy.js";
import { compareText, parsePermissionSetPattern } from "./spec.js";

/** Who a policy names, as far as a policy can tell. */
export type PrincipalDescriptor =
  | { kind: "permission-set"; accountId: string; name: string }
  | { kind: "arn"; arn: string }
  | { kind: "pattern"; pattern: string }
  | { kind: "account"; accountId: string }
  | { kind: "anyone" };

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

export type CapabilityAccess = {
  capability: Capability;
  granted: CapabilityGrant[];
  shadowed: ShadowedGrant[];
  /**
   * Principals not granted the capability whose own identity policy could still give it to them
   * (an Allow of everything is not explicitly denied for at least one action). `anyone` stands
   * for a principal of the bucket's account that the policy never names. Empty means the capability is closed to
   * everyone the bucket policy does not grant it to, administrators included.
   */
  openThroughIdentityPolicies: PrincipalDescriptor[];
};

/** Statements whose principals cannot be evaluated (services, NotPrincipal allows). */
export type UnanalyzedStatement = { statement: string; reason: string };

export type EffectiveAccess = {
  bucket: string;
  capabilities: CapabilityAccess[];
  unanalyzed: UnanalyzedStatement[];
};

export type EffectiveAccessResult =
  | { ok: true; value: EffectiveAccess }
  | { ok: false; error: { code: "INVALID_LIVE_POLICY"; message: string } };

type Candidate = { descriptor: PrincipalDescriptor; key: string; samples: string[] };

const POSITIVE_ARN_OPERATORS = /^(ForAnyValue:)?(ArnLike|ArnEquals|StringLike|StringEquals)(IfExists)?$/;
const ALLOW_EVERYTHING = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};
const PROBE_ROLE = "keyturn-effective-access-probe";
const SAMPLE_SUFFIX = "0123456789abcdef";
const SAMPLE_REGION = "us-west-2";

/**
 * Which principals can exercise each capability on the bucket, according to its policy alone:
 * every principal an Allow statement names (by `Principal` or by an `aws:PrincipalArn` condition)
 * is probed, action by action, through the IAM evaluator with a representative ARN over TLS and
 * with SSE-KMS uploads. Keyturn's permission-set patterns are recognised and reported as the set;
 * the caller resolves them to the people holding the set right now.
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
  const unlisted: Candidate = {
    descriptor: { kind: "anyone" },
    key: "anyone",
    samples: [`arn:aws:iam::${account}:role/${PROBE_ROLE}`],
  };
  if (!candidates.some((candidate) => candidate.key === unlisted.key)) {
    candidates.push(unlisted);
  }
  const bucketArn = `arn:aws:s3:::${input.bucket}`;
  const run = (sample: string, action: string, policies: ParsedPolicyInput[]): Evaluation => {
    const accountId = sample.split(":")[4] ?? "";
    const context: Record<string, ContextValue | undefined> = {
      "aws:PrincipalArn": sample,
      "aws:PrincipalAccount": accountId,
      "aws:SecureTransport": "true",
      "aws:CurrentTime": input.now,
      ...(action === "s3:PutObject" ? { "s3:x-amz-server-side-encryption": "aws:kms" } : {}),
    };
    const resource = isObjectLevelAction(action) ? `${bucketArn}/${PROBE_ROLE}` : bucketArn;
    return evaluateParsed(
      { principal: { type: "AWS", arn: sample, accountId }, action, resource, context },
      policies,
    );
  };
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
  const label = (evaluation: Evaluation, names: readonly string[] = labels) =>
    evaluation.decidedBy.map((ref) => names[ref.index] ?? `#${ref.index}`);

  const capabilities = CAPABILITIES.map((capability): CapabilityAccess => {
    const actions = CAPABILITY_ACTIONS[capability];
    const granted: CapabilityGrant[] = [];
    const shadowed: ShadowedGrant[] = [];
    const open: PrincipalDescriptor[] = [];
    for (const candidate of candidates) {
      const allowed = new Set<string>();
      const grantedBy = new Set<string>();
      const denied = new Set<string>();
      const deniedBy = new Set<string>();
      const shadowGrantedBy = new Set<string>();
      let openThroughIdentity = false;
      for (const action of actions) {
        // A set's role lives under one of two paths; whichever the policy lets in counts.
        const outcomes = candidate.samples.map((sample) => run(sample, action, [bucketPolicy]));
        const allowedBy = outcomes.find((outcome) => outcome.decision === "Allow");
        if (allowedBy !== undefined) {
          allowed.add(action);
          for (const sid of label(allowedBy)) {
            grantedBy.add(sid);
          }
          continue;
        }
        for (const [index, outcome] of outcomes.entries()) {
          const sample = candidate.samples[index] ?? "";
          if (outcome.decision === "ExplicitDeny") {
            const wouldAllow = run(sample, action, [allowPolicy]);
            if (wouldAllow.decision === "Allow") {
              denied.add(action);
              for (const sid of label(wouldAllow, allowLabels)) {
                shadowGrantedBy.add(sid);
              }
              for (const sid of label(outcome)) {
                deniedBy.add(sid);
              }
            }
          } else if (run(sample, action, [bucketPolicy, identity]).decision === "Allow") {
            openThroughIdentity = true;
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
          owned: sids.every((sid) => isOwnedSid(sid)),
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
    }
    return { capability, granted, shadowed, openThroughIdentityPolicies: open };
  });
  return { ok: true, value: { bucket: input.bucket, capabilities, unanalyzed } };
}

/** Every principal the Allow statements name, with ARNs that stand for it when probing. */
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
    if (statement.NotPrincipal !== undefined) {
      unanalyzed.push({ statement: name, reason: "an Allow with NotPrincipal" });
      return;
    }
    const principal = statement.Principal;
    const awsValues = principal === "*" ? ["*"] : listOf((principal as { AWS?: unknown } | undefined)?.AWS);
    if (principal !== "*" && awsValues.length === 0) {
      unanalyzed.push({
        statement: name,
        reason: "names only service, federated or canonical-user principals",
      });
      return;
    }
    for (const value of awsValues) {
      if (value === "*") {
        const patterns = principalArnValues(statement.Condition);
        if (patterns.length === 0) {
          add({ descriptor: { kind: "anyone" }, key: "anyone", samples: [probe(account)] });
        }
        for (const pattern of patterns) {
          add(candidateFor(pattern));
        }
      } else if (/^\d{12}$/.test(value) || /^arn:[^:]+:iam::\d{12}:root$/.test(value)) {
        const accountId = /(\d{12})/.exec(value)?.[1] ?? "";
        add({
          descriptor: { kind: "account", accountId },
          key: `account ${accountId}`,
          samples: [probe(accountId)],
        });
      } else {
        add(candidateFor(value));
      }
    }
  });
  const sorted = [...candidates.values()].sort((a, b) => compareText(a.key, b.key));
  return { candidates: sorted, unanalyzed };
}

function candidateFor(pattern: string): Candidate {
  const set = parsePermissionSetPattern(pattern);
  if (set !== undefined) {
    const base = `arn:aws:iam::${set.accountId}:role/aws-reserved/sso.amazonaws.com`;
    const role = `AWSReservedSSO_${set.name}_${SAMPLE_SUFFIX}`;
    return {
      descriptor: { kind: "permission-set", ...set },
      key: `set ${set.accountId} ${set.name}`,
      samples: [`${base}/${role}`, `${base}/${SAMPLE_REGION}/${role}`],
    };
  }
  if (/[*?]/.test(pattern)) {
    // `*` may match nothing and `?` any one character, so this ARN fits the pattern.
    return {
      descriptor: { kind: "pattern", pattern },
      key: `pattern ${pattern}`,
      samples: [pattern.replaceAll("*", "").replaceAll("?", "0")],
    };
  }
  return { descriptor: { kind: "arn", arn: pattern }, key: `arn ${pattern}`, samples: [pattern] };
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

function probe(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/${PROBE_ROLE}`;
}

function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter((item): item is string => typeof item === "string");
}
