-- AlterTable
ALTER TABLE "Assignment" ADD COLUMN     "pendingOperation" TEXT,
ADD COLUMN     "pendingRequestId" TEXT,
ADD COLUMN     "pendingSince" TIMESTAMPTZ(3);

