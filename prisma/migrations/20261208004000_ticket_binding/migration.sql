-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "ticketProvider" TEXT,
ADD COLUMN     "ticketTitle" TEXT,
ADD COLUMN     "ticketUrl" TEXT,
ADD COLUMN     "ticketState" TEXT,
ADD COLUMN     "endReason" TEXT,
ADD COLUMN     "notAfter" TIMESTAMPTZ(3),
ADD COLUMN     "onCallCheckedAt" TIMESTAMPTZ(3),
ADD COLUMN     "onCallOutcome" TEXT,
ADD COLUMN     "onCallNote" TEXT;

-- CreateIndex
CREATE INDEX "AccessRequest_ticketProvider_ticket_idx" ON "AccessRequest"("ticketProvider", "ticket");
