-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateIndex
CREATE INDEX "Host_commonName_idx" ON "Host" USING GIN ("commonName" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Host_description_idx" ON "Host" USING GIN ("description" gin_trgm_ops);


-- CreateIndex, written by hand: Prisma cannot describe an expression index. It answers the
-- search's address prefix (address::text LIKE '10.64.1%'), so the whole search can use indexes.
CREATE INDEX "Host_address_text_trgm_idx" ON "Host" USING GIN (("address"::text) gin_trgm_ops);
