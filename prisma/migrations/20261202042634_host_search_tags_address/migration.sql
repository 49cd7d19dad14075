-- Written by hand (Prisma cannot describe expression indexes). The host search has one meaning
-- (issue 14): the text, case-insensitive and literal, anywhere in the common name, the address,
-- the description or any tag. Name and description keep their trigram indexes; these two answer
-- the rest, so a search at 10,000+ hosts never reads every host.

-- The address as written ("10.64.1.5"): the old index was on address::text, which ends in "/32"
-- and only served a prefix search.
DROP INDEX "Host_address_text_trgm_idx";
CREATE INDEX "Host_address_host_trgm_idx" ON "Host" USING GIN ((host("address")) gin_trgm_ops);

-- Tags joined by a space (no tag may hold one). array_to_string is only STABLE in general (other
-- element types print by settings), IMMUTABLE for text[]; an index needs an immutable expression.
CREATE FUNCTION "host_tags_text"(tags text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN array_to_string(tags, ' ');
CREATE INDEX "Host_tags_text_trgm_idx" ON "Host" USING GIN (("host_tags_text"("tags")) gin_trgm_ops);
