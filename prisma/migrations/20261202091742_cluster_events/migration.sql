-- CreateTable
CREATE TABLE "ClusterEvent" (
    "seq" BIGSERIAL NOT NULL,
    "networkId" UUID,
    "kind" TEXT NOT NULL,
    "instance" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClusterEvent_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "ClusterEvent_createdAt_idx" ON "ClusterEvent"("createdAt");

