-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "idempotencyKey" TEXT;

-- CreateTable
CREATE TABLE "SlackMessage" (
    "id" UUID NOT NULL,
    "requestId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "ts" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SlackMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "SlackMessage_requestId_kind_key" ON "SlackMessage"("requestId", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "AccessRequest_idempotencyKey_key" ON "AccessRequest"("idempotencyKey");

