-- CreateTable
CREATE TABLE "DriftFinding" (
    "id" UUID NOT NULL,
    "accountId" TEXT NOT NULL,
    "permissionSetName" TEXT NOT NULL,
    "principalType" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL,
    "resolvedAt" TIMESTAMPTZ(3),
    "removedByKeyturn" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "DriftFinding_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DriftFinding_accountId_permissionSetName_principalType_prin_key" ON "DriftFinding"("accountId", "permissionSetName", "principalType", "principalId");

