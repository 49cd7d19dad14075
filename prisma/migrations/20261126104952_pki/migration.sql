-- AlterTable
ALTER TABLE "Network" ADD COLUMN     "crlNextUpdate" TIMESTAMPTZ(3),
ADD COLUMN     "crlNumber" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "crlPem" TEXT,
ADD COLUMN     "tlsCryptKeySealed" BYTEA;


-- At most one certificate in force per host, and per switch and kind: rotation revokes the old
-- one in the same transaction that issues the new one. (Partial indexes are not expressible in
-- schema.prisma; `prisma migrate diff` leaves them alone.)
CREATE UNIQUE INDEX "Certificate_one_current_per_host" ON "Certificate" ("hostId") WHERE "revokedAt" IS NULL AND "hostId" IS NOT NULL;
CREATE UNIQUE INDEX "Certificate_one_current_per_switch_kind" ON "Certificate" ("switchId", "kind") WHERE "revokedAt" IS NULL AND "switchId" IS NOT NULL;
CREATE UNIQUE INDEX "Certificate_one_current_ca" ON "Certificate" ("networkId") WHERE "revokedAt" IS NULL AND "kind" = 'ca';
