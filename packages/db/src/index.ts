export {
  createApiTokenRepository,
  findActiveTokenByHash,
  listTokens,
  toTokenRecord,
} from "./api-token-repository.js";
export {
  type AssignmentClaimsHandle,
  type AssignmentClaimsOptions,
  createAssignmentClaims,
} from "./assignment-claims.js";
export {
  type AuditRecord,
  appendAudit,
  auditHash,
  type ChainVerification,
  type CommittedAudit,
  type CommittedAuditObserver,
  GENESIS_HASH,
  verifyAuditChain,
} from "./audit.js";
export {
  createAccessHolderQueries,
  createProtectedBucketRepository,
  createSessionCutoffRepository,
} from "./bucket-policy-repository.js";
export {
  type CliSignInView,
  claimSignInMessage,
  createCliSignInRepository,
  getCliSignIn,
  recordSignInMessage,
  releaseSignInMessage,
} from "./cli-sign-in-repository.js";
export { type CreatePrismaClientOptions, createPrismaClient } from "./client.js";
export { DatabaseError, translateDatabaseError } from "./errors.js";
export type { StoredFlowVersion } from "./flow-rules.js";
export type {
  AccessRequest,
  ApiToken,
  Assignment,
  AuditEvent,
  Flow,
  FlowVersion,
  Identity,
  Lease,
  OutboxMessage,
  Prisma,
  PrismaClient,
  ProtectedBucket,
  Review,
  SessionCutoff,
} from "./generated/prisma/client.js";
export { AssignmentOrigin, RequestSource, RequestStatus, ReviewDecision } from "./generated/prisma/enums.js";
export {
  MigrateError,
  type MigrateErrorCode,
  type MigrateLogger,
  type MigrateOptions,
  type MigrateResult,
  migrate,
} from "./migrate.js";
export {
  listenForOutbox,
  markOutboxDead,
  markOutboxFailed,
  markOutboxSent,
  OUTBOX_CHANNEL,
  pendingOutbox,
} from "./outbox.js";
export type { Db, Tx } from "./prisma-types.js";
export {
  approvalTimeQuantiles,
  countLiveLeases,
  countRequestsByStatusAndFlow,
  findProtectedBucket,
  leaseEndsOfAssignment,
  listProtectedBuckets,
  pingDatabase,
} from "./read-queries.js";
export {
  type AuditFilter,
  decodeCursor,
  encodeCursor,
  getFlowView,
  getRequestView,
  listAuditEvents,
  listFlows,
  listRequestViews,
  type RequestFilter,
  type RequestView,
} from "./request-queries.js";
export { isUuid, toDomain } from "./request-repository.js";
export { overdueRemovals } from "./revocation-queries.js";
export {
  claimSlackMessage,
  completeSlackMessage,
  createSlackNotifierStore,
  findSlackMessages,
  forgetSlackMessage,
  releaseSlackMessageClaim,
  touchSlackMessage,
} from "./slack-message-repository.js";
export {
  createSlackIdentityStore,
  findIdentityByEmail,
  findIdentityBySlackUserId,
  getRequestCard,
  getSlackRequestRow,
  listSlackRequestRows,
  pinSlackUserId,
  type SlackFiledByRow,
  type SlackPersonRow,
  type SlackRequestRow,
  toRequestCard,
} from "./slack-request-queries.js";
export {
  assignmentsNeedingReconcile,
  pendingOnCallChecks,
  pendingRequestsPastTimeout,
} from "./sweep-queries.js";
export { createBucketPolicyUnitOfWork, createUnitOfWork } from "./unit-of-work.js";
