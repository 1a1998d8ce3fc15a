export { type CreatePrismaClientOptions, createPrismaClient } from "./client.js";
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
  Review,
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
