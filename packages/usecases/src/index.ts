export { activateRequest } from "./activate-request.js";
export { answerCliSignIn, type SignInAnswerer } from "./answer-cli-sign-in.js";
export { AppError } from "./app-error.js";
export { applyBucketPolicy, type BucketPolicyApplied } from "./apply-bucket-policy.js";
export { auditAction } from "./apply-decision.js";
export { archiveFlow } from "./archive-flow.js";
export {
  type AccessGrant,
  type BucketAccessReport,
  bucketAccessReport,
  type CapabilityReport,
} from "./bucket-access-report.js";
export * from "./bucket-policy-ports.js";
export type { DiffSummary } from "./bucket-policy-support.js";
export { cancelRequest } from "./cancel-request.js";
export { type BucketDriftReport, checkBucketPolicyDrift } from "./check-bucket-policy-drift.js";
export { checkOnCall } from "./check-on-call.js";
export { createApiToken, hashToken, mintApiToken } from "./create-api-token.js";
export {
  type CliSignInStarted,
  createCliSignIn,
  SIGN_IN_TOKEN_SCOPES,
  SIGN_IN_TOKEN_TTL_MS,
  SIGN_IN_TTL_MS,
} from "./create-cli-sign-in.js";
export {
  ARM_LOOKBACK_MS,
  type BucketCutoffStatus,
  type CutoffChange,
  cutoffTerms,
  MAX_SESSION_SECONDS,
  PREARM_LEAD_MS,
  PROVISIONAL_STEP_MS,
  prepareGrant,
  type RefreshReport,
  refreshSessionCutoffs,
  type SessionCutoffDeps,
  SWEEP_LOOKBACK_MS,
  sessionCutoffStatus,
  staleBuckets,
} from "./cut-off-sessions.js";
export { endAccessForClosedTicketEvent, endAccessForTicket } from "./end-access-for-ticket.js";
export { expireRequest } from "./expire-request.js";
export { extendRequest } from "./extend-request.js";
export { failCliSignIn } from "./fail-cli-sign-in.js";
export { failRequest } from "./fail-request.js";
export { type GeneratedBucketPolicyView, generateBucketPolicy } from "./generate-bucket-policy.js";
export type {
  AssignmentTarget,
  ChangeStatus,
  CreationHooks,
  IdentityCenter,
  IdentityCenterUser,
  ProvisioningOutcome,
} from "./identity-center.js";
export {
  checkLockout,
  KEYTURN_CAPABILITIES,
  type KeyturnIdentity,
  type KeyturnPrincipal,
  ownRole,
} from "./keyturn-principal.js";
export type { Notifier, RequestNotification, SignInNotifier } from "./notifier.js";
export { overrideDecision } from "./override-decision.js";
export { pollTickets, type TicketPollReport } from "./poll-tickets.js";
export * from "./ports.js";
export {
  type BucketDrift,
  type BucketPolicyPreview,
  previewBucketPolicy,
} from "./preview-bucket-policy.js";
export { type Principal, resolveActor, SYSTEM } from "./principal.js";
export { putFlow } from "./put-flow.js";
export { putProtectedBucket } from "./put-protected-bucket.js";
export {
  emptyReport,
  type ReconcileAction,
  type ReconcileDeps,
  type ReconcileReport,
  reconcileAssignment,
} from "./reconcile-assignment.js";
export { recordOperatorAction } from "./record-operator-action.js";
export { redeemCliSignIn, type SignInPoll } from "./redeem-cli-sign-in.js";
export { type RepinIdentityDeps, type Repinned, repinIdentity } from "./repin-identity.js";
export { type ResolvedIdentity, type ResolveIdentityDeps, resolveIdentity } from "./resolve-identity.js";
export { err, ok, type Result, type UseCaseError, type UseCaseErrorCode } from "./result.js";
export { reviewRequest } from "./review-request.js";
export { revokeApiToken } from "./revoke-api-token.js";
export { revokeRequest } from "./revoke-request.js";
export { type DriftFindingReport, scanDrift } from "./scan-drift.js";
export type {
  PersonRef,
  PinnedSlackIdentity,
  RequestCard,
  ReviewCard,
  SlackIdentityStore,
  SlackMessageClaim,
  SlackMessageRecord,
  SlackNotifierStore,
  SlackPinOutcome,
  SlackSignInView,
} from "./slack-ports.js";
export { type SubmitRequestInput, submitRequest } from "./submit-request.js";
export { timeOutRequest } from "./time-out-request.js";
export {
  API_SCOPES,
  type ApiScope,
  mintRefusal,
  revokeRefusal,
  type TokenAuthority,
} from "./token-authority.js";
export { transitionRequest } from "./transition-request.js";
