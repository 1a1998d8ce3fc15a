-- AlterTable
ALTER TABLE "Assignment" ADD COLUMN     "claimedBy" TEXT,
ADD COLUMN     "claimedUntil" TIMESTAMPTZ(3),
ADD COLUMN     "lastReconciledAt" TIMESTAMPTZ(3),
ADD COLUMN     "observedPresent" BOOLEAN,
ADD COLUMN     "provisionIntentAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ReconcileAttempt" (
    "id" UUID NOT NULL,
    "assignmentId" UUID NOT NULL,
    "operation" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "awsRequestId" TEXT,
    "failureReason" TEXT,
    "requestIds" TEXT[],
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ReconcileAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ReconcileAttempt_assignmentId_startedAt_idx" ON "ReconcileAttempt"("assignmentId", "startedAt");

-- AddForeignKey
ALTER TABLE "ReconcileAttempt" ADD CONSTRAINT "ReconcileAttempt_assignmentId_fkey" FOREIGN KEY ("assignmentId") REFERENCES "Assignment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

