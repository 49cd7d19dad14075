import type { Host, Network, SessionRecord, Switch } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { addressKey, allTags, buildHostRows, EMPTY_FILTER, filterHostRows } from "../src/features/hosts/host-rows.ts";
import { countCsvRows, importProblems } from "../src/features/hosts/import-report.ts";

const host = (id: string, commonName: string, address: string, tags: string[] = [], description = ""): Host => ({
  id,
  networkId: id.startsWith("b") ? "n2" : "n1",
  commonName,
  address,
  description,
  tags,
  enabled: true,
  subnets: [],
  pushRoutes: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
});
const session = (hostId: string, switchId: string): SessionRecord => ({
  id: `s-${hostId}`,
  hostId,
  commonName: hostId,
  switchId,
  networkId: "n1",
  realAddress: "198.51.100.7:1194",
  connectedAt: "2026-01-01T00:00:00.000Z",
  bytesIn: 0,
  bytesOut: 0,
});

const hosts = [
  host("a1", "web-1", "10.0.0.10", ["web", "blue"], "Frontend in Paris"),
  host("a2", "web-2", "10.0.0.9", ["web"]),
  host("a3", "db-1", "10.0.0.20", ["db"]),
  host("b1", "mail-1", "10.1.0.5", []),
];
const networks = new Map([
  ["n1", { id: "n1", name: "office" } as Network],
  ["n2", { id: "n2", name: "lab" } as Network],
]);
const switches = new Map([
  ["s1", { id: "s1", name: "fra-1" } as Switch],
  ["s2", { id: "s2", name: "ams-1" } as Switch],
]);
const rows = buildHostRows(
  hosts,
  new Map([
    ["a1", session("a1", "s1")],
    ["a3", session("a3", "s2")],
  ]),
  networks,
  switches,
);
const names = (list: readonly { commonName: string }[]) => list.map((r) => r.commonName);

describe("hosts table rows and filters", () => {
  it("joins each host with its session, switch and network", () => {
    expect(rows[0]).toMatchObject({ online: true, switchId: "s1", switchName: "fra-1", networkName: "office" });
    expect(rows[1]).toMatchObject({ online: false, switchId: null, switchName: "" });
  });

  it("orders addresses numerically, so .9 comes before .10", () => {
    expect(addressKey("10.0.0.9")).toBeLessThan(addressKey("10.0.0.10"));
    expect(addressKey("10.0.1.0")).toBeGreaterThan(addressKey("10.0.0.255"));
  });

  it("returns the same array when no filter is set (nothing to recompute)", () => {
    expect(filterHostRows(rows, EMPTY_FILTER)).toBe(rows);
  });

  it("searches name, address, description and tags, ignoring case", () => {
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: "WEB" }))).toEqual(["web-1", "web-2"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: "10.0.0.2" }))).toEqual(["db-1"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: "paris" }))).toEqual(["web-1"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: "blue" }))).toEqual(["web-1"]);
    // HOST_SEARCH_RULE, as the API answers it: inside the address, never across two parts.
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: ".0.9" }))).toEqual(["web-2"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: "web\nblue" }))).toEqual([]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, search: " db " }))).toEqual(["db-1"]);
  });

  it("filters by network, switch, tag and online state together", () => {
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, networkId: "n2" }))).toEqual(["mail-1"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, switchId: "s2" }))).toEqual(["db-1"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, tag: "web", online: "offline" }))).toEqual(["web-2"]);
    expect(names(filterHostRows(rows, { ...EMPTY_FILTER, online: "online" }))).toEqual(["web-1", "db-1"]);
  });

  it("lists every tag once, sorted, for the tag filter", () => {
    expect(allTags(hosts)).toEqual(["blue", "db", "web"]);
  });
});

describe("CSV import report", () => {
  it("counts data rows, not the header or blank lines", () => {
    expect(countCsvRows("commonName\nweb-1\n\nweb-2\n")).toBe(2);
    expect(countCsvRows("")).toBe(0);
  });

  it("lists every bad row the API named, and a lone problem from the message too", () => {
    const errors = [{ row: 2, field: "body.hosts.2.address", message: "is taken" }];
    expect(importProblems({ statusCode: 409, error: "Conflict", message: "x", requestId: "r", errors })).toEqual(
      errors,
    );
    expect(
      importProblems({
        statusCode: 400,
        error: "Bad Request",
        message: "body.hosts.3.commonName must be letters, digits",
        requestId: "r",
      }),
    ).toEqual([{ row: 3, field: "body.hosts.3.commonName", message: "must be letters, digits" }]);
    expect(
      importProblems({ statusCode: 400, error: "Bad Request", message: "body is not valid CSV", requestId: "r" }),
    ).toEqual([]);
  });
});
