export type { JsonPolicy, JsonStatement } from "./canonical.js";
export {
  MAX_POLICY_BYTES,
  normalizeStatement,
  policyFingerprint,
  serializePolicy,
  statementFingerprint,
} from "./canonical.js";
export type { Capability, DataCapability } from "./capabilities.js";
export {
  ALLOW_SIDS,
  CAPABILITIES,
  CAPABILITY_ACTIONS,
  DATA_CAPABILITIES,
  DATA_DENY_SIDS,
  DENY_ENDED_SESSIONS_SID,
  DENY_EVERYONE_ELSE_SID,
  DENY_INSECURE_SID,
  DENY_KMS_WITHOUT_KEY_SID,
  DENY_NOT_KMS_SID,
  DENY_UNENCRYPTED_SID,
  DENY_UNEXPECTED_KMS_KEY_SID,
  isOwnedSid,
  OWNED_SIDS,
} from "./capabilities.js";
export type { Condition, ConditionOperator, ConditionOperatorName, SetQualifier } from "./conditions.js";
export { CONDITION_OPERATORS } from "./conditions.js";
export type {
  CapabilityAccess,
  CapabilityGrant,
  EffectiveAccess,
  EffectiveAccessResult,
  PrincipalDescriptor,
  ShadowedGrant,
  UnanalyzedStatement,
} from "./effective-access.js";
export { analyzeEffectiveAccess } from "./effective-access.js";
export type {
  AuthorizationRequest,
  ContextValue,
  EvaluateResult,
  Evaluation,
  EvaluationError,
  ParsedPolicyInput,
  PolicyInput,
  Principal,
  StatementRef,
  UndeterminedStatement,
} from "./evaluate.js";
export { evaluate, evaluateParsed } from "./evaluate.js";
export type {
  GeneratedBucketPolicy,
  GeneratedPolicy,
  GenerateError,
  GenerateOptions,
  GenerateResult,
  PolicyTooLarge,
} from "./generate.js";
export { generateBucketPolicy, sessionCutoffCapacity } from "./generate.js";
export type { IpBlock } from "./ip-address.js";
export { ipInBlock, parseIpBlock } from "./ip-address.js";
export type { ForeignStatement, PlanError, PlanResult, PolicyDiff, PolicyPlan } from "./merge.js";
export { livePolicyFingerprint, planBucketPolicy, readLivePolicy } from "./merge.js";
export type {
  Effect,
  Negatable,
  ParsePolicyResult,
  Policy,
  PolicyError,
  PolicyKind,
  Principals,
  PrincipalType,
  Statement,
} from "./policy.js";
export { parsePolicy } from "./policy.js";
export { lineDiff, type PolicyDiffView, renderPolicyDiff } from "./render-diff.js";
export type { CutoffFold, CutoffLayout } from "./session-cutoffs.js";
export { compactUserId } from "./session-cutoffs.js";
export type {
  BucketSpec,
  ParseSpecResult,
  PrincipalRef,
  ResolvedPrincipal,
  SessionCutoff,
  SpecProblem,
} from "./spec.js";
export {
  parseBucketSpec,
  parsePermissionSetPattern,
  permissionSetPatterns,
  permissionSetsOf,
} from "./spec.js";
export { matchesArnPattern, matchesWildcard, wildcardToRegExp } from "./wildcard.js";
