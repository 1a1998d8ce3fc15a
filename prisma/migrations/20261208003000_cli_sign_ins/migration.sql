-- CreateTable
CREATE TABLE "CliSignIn" (
    "id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "handleHash" TEXT NOT NULL,
    "email" TEXT,
    "slackUserId" TEXT,
    "host" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "decidedAt" TIMESTAMPTZ(3),
    "identityStoreUserId" TEXT,
    "dmChannel" TEXT,
    "dmTs" TEXT,
    "tokenId" UUID,
    "redeemedAt" TIMESTAMPTZ(3),

    CONSTRAINT "CliSignIn_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CliSignIn_handleHash_key" ON "CliSignIn"("handleHash");

-- CreateIndex
CREATE INDEX "CliSignIn_expiresAt_idx" ON "CliSignIn"("expiresAt");

