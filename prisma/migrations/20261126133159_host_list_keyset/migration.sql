-- DropIndex
DROP INDEX "Host_networkId_createdAt_idx";

-- CreateIndex
CREATE INDEX "Host_networkId_createdAt_id_idx" ON "Host"("networkId", "createdAt", "id");

