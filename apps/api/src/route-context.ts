import type { IncomingMessage, ServerResponse } from "node:http";
import type { PrismaClient } from "@keyturn/db";
import type { BucketPolicyDeps, BucketPolicyStore, Clock, Deps, IdGenerator } from "@keyturn/usecases";
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";

/** The Fastify instance routes see: zod schemas type their request and reply. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What a route may use: use cases go through `usecases` (writes), reads go to `prisma`. */
export type RouteDeps = {
  prisma: PrismaClient;
  clock: Clock;
  ids: IdGenerator;
  usecases: Deps;
  /** The bucket-policy use cases; `store` is absent when the API runs without an S3 client. */
  buckets: BucketPolicyDeps & { store?: BucketPolicyStore };
};
