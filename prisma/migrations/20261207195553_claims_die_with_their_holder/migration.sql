-- Reconcile claims are PostgreSQL advisory locks held by the claiming session (packages/db
-- assignment-claims.ts), which end with their holder: the TTL columns go.

-- AlterTable
ALTER TABLE "Assignment" DROP COLUMN "claimedBy",
DROP COLUMN "claimedUntil";
