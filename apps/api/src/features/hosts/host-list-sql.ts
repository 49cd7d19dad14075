import { type Host, type HostListQuery, IdSchema, IPV4_PATTERN } from "@switchboard/shared";
import type { Statement } from "../../db/sql-reader.ts";
import type { Cursor } from "../../http/cursor.ts";
import { badRequest } from "../../http/errors.ts";

// The host list is the API's hottest read. Prisma spent more time building and decoding this
// query than Postgres spent running it, so the list is one hand-written, parameterised statement:
// same filters, order and keyset cursor as the rest of the API speaks, nothing interpolated but
// fixed column names and directions chosen from the validated query.

/** Sort key -> column, and the type its cursor value is compared as. */
const SORTS = {
  commonName: { column: `h."commonName"`, cast: "text" },
  address: { column: "h.address", cast: "inet" },
  createdAt: { column: `h."createdAt"`, cast: "timestamptz" },
} as const;

/** Timestamps leave the database already in the API's format (toISOString's), not as Date objects. */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Exactly the fields of the Host contract, in its shape. */
const COLUMNS = [
  "h.id",
  `h."networkId"`,
  `h."commonName"`,
  "h.address",
  "h.description",
  "h.tags",
  "h.enabled",
  "h.subnets",
  `h."pushRoutes"`,
  `${iso(`h."createdAt"`)} AS "createdAt"`,
  `${iso(`h."updatedAt"`)} AS "updatedAt"`,
].join(", ");

const uuid = new RegExp(IdSchema.pattern as string);
const ipv4 = new RegExp(IPV4_PATTERN);
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A cursor's parts are compared as uuid, inet or timestamp: one that cannot be is not a cursor
 * this API returned (it would otherwise fail in the database as a 500).
 */
function checkCursor(sort: keyof typeof SORTS, cursor: Cursor): Cursor {
  const valueOk =
    sort === "address"
      ? ipv4.test(cursor.value)
      : sort === "createdAt"
        ? ISO_TIMESTAMP.test(cursor.value) && !Number.isNaN(Date.parse(cursor.value))
        : true;
  if (!valueOk || !uuid.test(cursor.id)) throw badRequest("querystring.cursor", "is not a cursor this API returned");
  return cursor;
}

/** LIKE treats % and _ as wildcards and \ as its escape: a search means its characters literally. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The search's one meaning (HOST_SEARCH_RULE in the contract, the console's filter too): the text,
 * case-insensitive and literal, anywhere in the common name, the address as written, the description
 * or any one tag. Each part has a trigram index (migration host_search_tags_address), so the
 * expressions here must stay exactly the indexed ones: host(address) and host_tags_text(tags).
 */
function searchCondition(search: string, param: (value: unknown) => string): string {
  const contains = param(`%${escapeLike(search)}%`);
  const parts = [`h."commonName" ILIKE ${contains}`, `h.description ILIKE ${contains}`];
  // host(), not ::text: an inet's text ends in "/32", which "32" or "/" would match on every host.
  if (/^[\d.]+$/.test(search)) parts.push(`host(h.address) LIKE ${contains}`);
  // Tags are joined by a space, which no tag holds: a search that could only match across two tags
  // is one with a character no tag may hold, and skips the tags.
  if (/^[a-z0-9._-]+$/i.test(search)) parts.push(`host_tags_text(h.tags) ILIKE ${contains}`);
  return `(${parts.join(" OR ")})`;
}

export interface HostListStatement extends Statement {
  /** Rows asked for: one more than the page, to know whether a next page exists. */
  take: number;
}

/** The list query as SQL; `cursor` is already decoded. */
export function hostListStatement(query: HostListQuery, cursor: Cursor | undefined): HostListStatement {
  const sort = SORTS[query.sort ?? "commonName"];
  const direction = query.order === "desc" ? "DESC" : "ASC";
  const take = (query.limit ?? 50) + 1;
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (query.networkId !== undefined) where.push(`h."networkId" = ${param(query.networkId)}::uuid`);
  if (query.tag !== undefined) where.push(`h.tags @> ARRAY[${param(query.tag)}::text]`);
  if (query.enabled !== undefined) where.push(`h.enabled = ${param(query.enabled)}::boolean`);
  // Online is "has a live session" (newest wins, so at most one); with switchId, on that switch.
  if (query.switchId !== undefined || query.online === true) {
    const onSwitch = query.switchId !== undefined ? ` AND s."switchId" = ${param(query.switchId)}::uuid` : "";
    where.push(`EXISTS (SELECT 1 FROM "Session" s WHERE s."hostId" = h.id AND s."disconnectedAt" IS NULL${onSwitch})`);
  }
  if (query.online === false) {
    where.push(`NOT EXISTS (SELECT 1 FROM "Session" s WHERE s."hostId" = h.id AND s."disconnectedAt" IS NULL)`);
  }
  if (query.search !== undefined) where.push(searchCondition(query.search, param));
  if (cursor) {
    const { value, id } = checkCursor(query.sort ?? "commonName", cursor);
    // A row comparison is the keyset condition "after (value, id)" that a (networkId, key, id) index answers directly.
    const after = direction === "ASC" ? ">" : "<";
    where.push(`(${sort.column}, h.id) ${after} (${param(value)}::${sort.cast}, ${param(id)}::uuid)`);
  }
  const text = [
    `SELECT ${COLUMNS} FROM "Host" h`,
    where.length > 0 ? `WHERE ${where.join(" AND ")}` : "",
    `ORDER BY ${sort.column} ${direction}, h.id ${direction}`,
    `LIMIT ${param(take)}::int`,
  ]
    .filter(Boolean)
    .join(" ");
  // A searched text's rarity decides between the trigram indexes and walking the sort order, so a
  // search is planned with its value every time; every other variant reuses one prepared plan.
  return { text, params, take, reusePlan: query.search === undefined };
}

/** A row of the statement above: already the Host contract's shape. */
export type HostListRow = Host;
