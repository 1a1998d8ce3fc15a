export type { Condition, ConditionOperator, ConditionOperatorName, SetQualifier } from "./conditions.js";
export { CONDITION_OPERATORS } from "./conditions.js";
export type {
  AuthorizationRequest,
  ContextValue,
  EvaluateResult,
  Evaluation,
  EvaluationError,
  PolicyInput,
  Principal,
  StatementRef,
} from "./evaluate.js";
export { evaluate } from "./evaluate.js";
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
export { matchesArnPattern, matchesWildcard, wildcardToRegExp } from "./wildcard.js";
