-- AlterTable
ALTER TABLE "ProtectedBucket" ADD COLUMN     "applyFailingSince" TIMESTAMPTZ(3),
ADD COLUMN     "cutoffsRoleWide" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "dirtySince" TIMESTAMPTZ(3),
ADD COLUMN     "lastApplyError" TEXT,
ADD COLUMN     "lastPutAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "SessionCutoff" ADD COLUMN     "closedAt" TIMESTAMPTZ(3),
ADD COLUMN     "endedAt" TIMESTAMPTZ(3),
ADD COLUMN     "issuedBefore" TIMESTAMPTZ(3),
ADD COLUMN     "sessionDurationSeconds" INTEGER;

-- CreateIndex
CREATE INDEX "Lease_releasedAt_idx" ON "Lease"("releasedAt");

