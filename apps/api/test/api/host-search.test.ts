import { HOST_SEARCH_RULE, type HostListQuery, hostSearchParts, matchesHostSearch } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { hostListStatement } from "../../src/features/hosts/host-list-sql.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestAppWithDatabase } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

// The host search has one meaning (HOST_SEARCH_RULE): the text, case-insensitive and literal,
// anywhere in the common name, the address, the description or any one tag. The API's SQL and the
// console's matcher (matchesHostSearch) are held to the same answers on the same hosts.

const HOSTS = [
  { commonName: "alpha", address: "10.151.7.21", tags: ["web", "eu-west"], description: "" },
  { commonName: "beta", address: "10.151.7.22", tags: ["db"], description: "Paris rack, 100% full" },
  { commonName: "gamma", address: "10.151.7.32", tags: ["cache_hot"], description: "" },
  { commonName: "delta-web", address: "10.151.7.40", tags: [], description: "" },
];

/** Search text -> the common names it finds, in name order. */
const CASES: [string, string[]][] = [
  ["web", ["alpha", "delta-web"]], // a tag, and a name
  ["WEST", ["alpha"]], // part of a tag, any case
  ["paris", ["beta"]], // the description, any case
  ["7.2", ["alpha", "beta"]], // inside the address, not only its start
  ["151.7.3", ["gamma"]],
  ["32", ["gamma"]], // the address as written: not the "/32" of every inet
  ["0%", ["beta"]], // % is a character, not a wildcard
  ["%", ["beta"]],
  ["e_h", ["gamma"]], // _ too: "cache_hot", not "cache-hot"-like names
  ["a_", []],
  ["b e", []], // never across two tags ("db" + "eu-west" would read "db eu-west" joined)
  ["web eu", []],
  ["zzz", []],
];

describeEachDatabase("host search", (kind: DatabaseKind) => {
  let app: TypedApp;
  let db: Database;
  let api: ApiClient;
  let networkId: string;
  beforeAll(async () => {
    ({ app, db } = await openTestAppWithDatabase(kind));
    api = apiClient(app);
    networkId = (await api.post("/api/networks", networkBody({ dataSubnet: "10.151.7.0/24" }))).body.id;
    for (const host of HOSTS) expect((await api.post("/api/hosts", { networkId, ...host })).status).toBe(201);
  });
  afterAll(() => app.close());

  it.each(CASES)("search=%s finds %j, as the console's matcher does", async (search, expected) => {
    const page = await api.get(`/api/hosts?networkId=${networkId}&search=${encodeURIComponent(search)}`);
    expect(page.status).toBe(200);
    expect(page.body.items.map((h: { commonName: string }) => h.commonName)).toEqual(expected);
    expect(HOSTS.filter((h) => matchesHostSearch(hostSearchParts(h), search)).map((h) => h.commonName)).toEqual(
      expected,
    );
  });

  it("says the rule in the OpenAPI description of the search parameter", async () => {
    const spec = (await api.get("/api/docs/json")).body;
    const parameter = spec.paths["/api/hosts"].get.parameters.find((p: { name: string }) => p.name === "search");
    expect(parameter.description ?? parameter.schema.description).toContain(HOST_SEARCH_RULE);
  });

  // The SQL's expressions must stay the indexed ones, or a search at 10,000 hosts reads them all.
  // With sequential scans off, each part of the search is answered by its trigram index. Only
  // PostgreSQL's planner is asked (registered only there: a skip would count as a failure in CI).
  const onPostgres = kind === "postgres" ? it : () => undefined;
  onPostgres("plans every part of the search on its trigram index", async () => {
    const { text, params } = hostListStatement({ search: "7.2" } as HostListQuery, undefined);
    const plan = await db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe("SET LOCAL enable_seqscan = off");
      await tx.$executeRawUnsafe("SET LOCAL enable_indexscan = off");
      const rows = await tx.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(`EXPLAIN ${text}`, ...params);
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    });
    for (const index of [
      "Host_commonName_idx",
      "Host_description_idx",
      "Host_address_host_trgm_idx",
      "Host_tags_text_trgm_idx",
    ]) {
      expect(plan).toContain(index);
    }
  });
});

describe("host search rule", () => {
  it("matches each part on its own", () => {
    const parts = hostSearchParts({ commonName: "a", address: "10.0.0.1", description: "x\ny", tags: ["p", "q"] });
    expect(matchesHostSearch(parts, "Y")).toBe(true);
    expect(matchesHostSearch(parts, "x\ny")).toBe(true);
    expect(matchesHostSearch(parts, "p\nq")).toBe(false);
  });
});
