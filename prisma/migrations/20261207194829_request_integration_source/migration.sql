-- AlterEnum
ALTER TYPE "RequestSource" ADD VALUE 'integration';

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "idempotencyFingerprint" TEXT;
