import { type Static, Type } from "@sinclair/typebox";
import {
  CidrSchema,
  CommonNameSchema,
  CursorSchema,
  DescriptionSchema,
  IdSchema,
  Ipv4Schema,
  LimitSchema,
  pageOf,
  SortOrderSchema,
  TagSchema,
  TimestampSchema,
} from "./common.ts";

const hostFields = {
  address: Ipv4Schema,
  description: DescriptionSchema,
  tags: Type.Array(TagSchema, { maxItems: 32, uniqueItems: true }),
  enabled: Type.Boolean(),
  subnets: Type.Array(CidrSchema, {
    maxItems: 64,
    uniqueItems: true,
    description: "subnets behind this host (iroute)",
  }),
  pushRoutes: Type.Array(CidrSchema, { maxItems: 100, uniqueItems: true, description: "routes pushed to this host" }),
};

export const HostSchema = Type.Object(
  {
    id: IdSchema,
    networkId: IdSchema,
    commonName: CommonNameSchema,
    ...hostFields,
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: "Host" },
);
export type Host = Static<typeof HostSchema>;

export const HostCreateSchema = Type.Object(
  {
    networkId: IdSchema,
    commonName: CommonNameSchema,
    // Omitted address: the lowest free static address of the network.
    ...Type.Partial(Type.Object(hostFields)).properties,
  },
  { additionalProperties: false },
);
export type HostCreate = Static<typeof HostCreateSchema>;

/** The common name is bound to the host's certificate, so it cannot change; create a new host instead. */
export const HostUpdateSchema = Type.Partial(Type.Object(hostFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type HostUpdate = Static<typeof HostUpdateSchema>;

export const HostSortSchema = Type.Union(
  [Type.Literal("commonName"), Type.Literal("address"), Type.Literal("createdAt")],
  {
    default: "commonName",
  },
);

/**
 * What the host search means, for the API (SQL), its OpenAPI description and the console alike:
 * one rule, so a host the console shows for a text is one the API returns for it.
 */
export const HOST_SEARCH_RULE =
  "the text, case-insensitive and literal (% and _ are plain characters), anywhere in the common name, the address (as written: 10.64.1.5), the description or any one tag";

/** HOST_SEARCH_RULE's parts of a host, lowercased once: what a search is matched against. */
export function hostSearchParts(host: Pick<Host, "commonName" | "address" | "description" | "tags">): string[] {
  return [host.commonName, host.address, host.description, ...host.tags].map((part) => part.toLowerCase());
}

/** HOST_SEARCH_RULE in code (the console's filter; the API's SQL says the same): each part on its own. */
export function matchesHostSearch(parts: readonly string[], search: string): boolean {
  const text = search.toLowerCase();
  return parts.some((part) => part.includes(text));
}

export const HostListQuerySchema = Type.Object(
  {
    networkId: Type.Optional(IdSchema),
    tag: Type.Optional(TagSchema),
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: `hosts matching ${HOST_SEARCH_RULE}` }),
    ),
    enabled: Type.Optional(Type.Boolean()),
    /** Only hosts whose live session is on this switch. */
    switchId: Type.Optional(IdSchema),
    online: Type.Optional(Type.Boolean({ description: "only hosts with (true) or without (false) a live session" })),
    sort: Type.Optional(HostSortSchema),
    order: Type.Optional(SortOrderSchema),
    limit: Type.Optional(LimitSchema),
    cursor: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);
export type HostListQuery = Static<typeof HostListQuerySchema>;

export const HostPageSchema = pageOf(HostSchema);
export type HostPage = Static<typeof HostPageSchema>;

/** Bulk import: every row is checked first; one bad row and nothing is written. */
export const HostImportSchema = Type.Object(
  {
    networkId: IdSchema,
    hosts: Type.Array(
      Type.Object(Type.Omit(HostCreateSchema, ["networkId"]).properties, { additionalProperties: false }),
      {
        minItems: 1,
        maxItems: 20_000,
      },
    ),
  },
  { additionalProperties: false },
);
export type HostImport = Static<typeof HostImportSchema>;

export const HostImportResultSchema = Type.Object({ created: Type.Integer(), hosts: Type.Array(HostSchema) });
export type HostImportResult = Static<typeof HostImportResultSchema>;
