-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "endReason" TEXT;

-- CreateTable
CREATE TABLE "AgentEnrollment" (
    "id" UUID NOT NULL,
    "switchId" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "usedAt" TIMESTAMPTZ(3),

    CONSTRAINT "AgentEnrollment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AgentCredential" (
    "id" UUID NOT NULL,
    "switchId" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "AgentCredential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AgentStatus" (
    "switchId" UUID NOT NULL,
    "online" BOOLEAN NOT NULL DEFAULT false,
    "agentVersion" TEXT,
    "revisionApplied" INTEGER,
    "lastError" TEXT,
    "connectedAt" TIMESTAMPTZ(3),
    "lastSeenAt" TIMESTAMPTZ(3),

    CONSTRAINT "AgentStatus_pkey" PRIMARY KEY ("switchId")
);

-- CreateIndex
CREATE UNIQUE INDEX "AgentEnrollment_tokenHash_key" ON "AgentEnrollment"("tokenHash");

-- CreateIndex
CREATE INDEX "AgentEnrollment_switchId_idx" ON "AgentEnrollment"("switchId");

-- CreateIndex
CREATE UNIQUE INDEX "AgentCredential_tokenHash_key" ON "AgentCredential"("tokenHash");

-- CreateIndex
CREATE INDEX "AgentCredential_switchId_idx" ON "AgentCredential"("switchId");

-- AddForeignKey
ALTER TABLE "AgentEnrollment" ADD CONSTRAINT "AgentEnrollment_switchId_fkey" FOREIGN KEY ("switchId") REFERENCES "Switch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgentCredential" ADD CONSTRAINT "AgentCredential_switchId_fkey" FOREIGN KEY ("switchId") REFERENCES "Switch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgentStatus" ADD CONSTRAINT "AgentStatus_switchId_fkey" FOREIGN KEY ("switchId") REFERENCES "Switch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

