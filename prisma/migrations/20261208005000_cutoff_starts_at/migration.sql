-- AlterTable
ALTER TABLE "SessionCutoff" ADD COLUMN     "startsAt" TIMESTAMPTZ(3);
