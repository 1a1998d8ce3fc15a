import type { Prisma, PrismaClient } from "./generated/prisma/client.js";

export type Db = PrismaClient;
/** What repositories run on: the client inside a transaction. */
export type Tx = Prisma.TransactionClient;
