-- CreateTable
CREATE TABLE "ProtectedBucket" (
    "name" TEXT NOT NULL,
    "accountId" TEXT,
    "spec" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "lastAppliedHash" TEXT,
    "lastAppliedAt" TIMESTAMPTZ(3),
    "lastDriftCheckAt" TIMESTAMPTZ(3),
    "driftDetected" BOOLEAN NOT NULL DEFAULT false,
    "lastSeenHash" TEXT,

    CONSTRAINT "ProtectedBucket_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "SessionCutoff" (
    "identityStoreUserId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "permissionSetName" TEXT NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "removedAt" TIMESTAMPTZ(3),

    CONSTRAINT "SessionCutoff_pkey" PRIMARY KEY ("identityStoreUserId","accountId","permissionSetName")
);

-- CreateIndex
CREATE INDEX "SessionCutoff_removedAt_until_idx" ON "SessionCutoff"("removedAt", "until");

