import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export type CreatePrismaClientOptions = {
  databaseUrl: string;
  /** Size of the pg pool behind the client (pg's default is 10). */
  maxConnections?: number;
};

// The generated client runs on the pg driver adapter (engineType "client"): no native query engine,
// which these machines could not download anyway.
export function createPrismaClient({ databaseUrl, maxConnections }: CreatePrismaClientOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    ...(maxConnections === undefined ? {} : { max: maxConnections }),
  });
  return new PrismaClient({ adapter });
}
