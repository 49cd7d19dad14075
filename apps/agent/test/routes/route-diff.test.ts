import { isNetworkCidr, parseCidr, parseIpv4 } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { checkBlastRadius } from "../../src/routes/blast-radius.ts";
import { type KernelRoute, parseIpRouteJson } from "../../src/routes/kernel-routes.ts";
import {
  diffKernelRoutes,
  diffRouteView,
  invalidRoute,
  parseBatchErrors,
  renderBatch,
  slotOf,
  viewOf,
} from "../../src/routes/route-diff.ts";

const r = (destination: string, via = "10.200.200.2", dev = "sbb-aaaaa-2") => ({ destination, via, dev });
const k = (destination: string, extra: Partial<KernelRoute> = {}): KernelRoute => ({
  destination,
  via: "10.200.200.2",
  dev: "sbb-aaaaa-2",
  metric: 0,
  type: "unicast",
  owned: true,
  ...extra,
});

describe("parseIpRouteJson", () => {
  it("normalises host routes to /32, reads our protocol by number or name, keeps foreign routes marked", () => {
    const routes = parseIpRouteJson(
      JSON.stringify([
        { dst: "10.1.0.1", gateway: "10.9.0.2", dev: "d0", protocol: "180", flags: [] },
        { dst: "10.1.0.2", gateway: "10.9.0.2", dev: "d0", protocol: "switchboard", flags: [] },
        { dst: "10.2.0.0/16", gateway: "10.9.0.3", dev: "d0", protocol: "static", metric: 5, flags: [] },
        { dst: "default", gateway: "10.9.0.1", dev: "d0", protocol: "dhcp", flags: [] },
        { type: "blackhole", dst: "10.3.0.1", protocol: "boot", flags: [] },
      ]),
    );
    expect(routes.map((x) => [x.destination, x.owned, x.metric, x.type])).toEqual([
      ["10.1.0.1/32", true, 0, "unicast"],
      ["10.1.0.2/32", true, 0, "unicast"],
      ["10.2.0.0/16", false, 5, "unicast"],
      ["10.3.0.1/32", false, 0, "blackhole"],
    ]);
  });

  it("reads an empty table", () => {
    expect(parseIpRouteJson("")).toEqual([]);
    expect(parseIpRouteJson("[]\n")).toEqual([]);
  });
});

describe("diffKernelRoutes", () => {
  it("adds what is missing, re-points what moved, removes what is no longer wanted, leaves the rest", () => {
    const changes = diffKernelRoutes(
      [r("10.100.100.2/32"), r("10.100.100.3/32", "10.200.200.3", "sbb-aaaaa-3"), r("10.100.100.4/32")],
      [k("10.100.100.2/32"), k("10.100.100.3/32"), k("10.100.100.9/32")],
    );
    expect(changes.unchanged).toEqual([r("10.100.100.2/32")]);
    expect(changes.upsert).toEqual([r("10.100.100.3/32", "10.200.200.3", "sbb-aaaaa-3"), r("10.100.100.4/32")]);
    expect(changes.remove.map((x) => x.destination)).toEqual(["10.100.100.9/32"]);
  });

  it("never removes or overwrites a route of another protocol; reports the clash as a conflict", () => {
    const foreign = k("10.100.100.5/32", { owned: false, via: "192.0.2.1", dev: "eth0" });
    const other = k("10.7.0.0/16", { owned: false });
    const changes = diffKernelRoutes([r("10.100.100.5/32")], [foreign, other]);
    expect(changes.upsert).toEqual([]);
    expect(changes.remove).toEqual([]);
    expect(changes.failures).toEqual([
      { destination: "10.100.100.5/32", reason: "conflict", message: expect.stringContaining("another route owner") },
    ]);
  });

  it("does not count a foreign route with a metric as a conflict (replace would not touch it)", () => {
    const changes = diffKernelRoutes([r("10.100.100.5/32")], [k("10.100.100.5/32", { owned: false, metric: 100 })]);
    expect(changes.upsert).toEqual([r("10.100.100.5/32")]);
  });

  it("puts our route back at metric 0 when someone re-added it with a metric", () => {
    const changes = diffKernelRoutes([r("10.100.100.2/32")], [k("10.100.100.2/32", { metric: 7 })]);
    expect(changes.upsert).toEqual([r("10.100.100.2/32")]);
    expect(changes.remove.map((x) => [x.destination, x.metric])).toEqual([["10.100.100.2/32", 7]]);
  });

  it("refuses routes that could not be written safely into a batch line", () => {
    const changes = diffKernelRoutes(
      [
        r("10.0.0.0/0"),
        r("10.100.100.7/24"),
        r("10.100.100.8/32", "10.0.0.1\nroute flush"),
        r("10.100.100.9/32", "10.0.0.1", "eth0 onlink"),
        r("10.100.100.10/32"),
        r("10.100.100.10/32", "10.200.200.3"),
      ],
      [],
    );
    expect(changes.failures.map((f) => [f.destination, f.reason])).toEqual([
      ["10.0.0.0/0", "invalid"],
      ["10.100.100.7/24", "invalid"],
      ["10.100.100.8/32", "invalid"],
      ["10.100.100.9/32", "invalid"],
      ["10.100.100.10/32", "invalid"],
    ]);
    expect(changes.upsert).toEqual([r("10.100.100.10/32")]);
  });
});

describe("diffRouteView", () => {
  it("writes a new destination as add (the kernel refuses to overwrite) and a re-point as replace", () => {
    const view = viewOf([k("10.100.100.2/32"), k("10.100.100.3/32")]);
    const changes = diffRouteView(
      [r("10.100.100.2/32", "10.200.200.3"), r("10.100.100.3/32"), r("10.100.100.4/32")],
      view,
    );
    expect(renderBatch(changes, 180)).toEqual([
      "route replace 10.100.100.2/32 via 10.200.200.3 dev sbb-aaaaa-2 proto 180 table main",
      "route add 10.100.100.4/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
    ]);
    expect(changes.inPlace.map((x) => x.destination)).toEqual([
      "10.100.100.2/32",
      "10.100.100.3/32",
      "10.100.100.4/32",
    ]);
  });

  it("checks a route in place once: a later diff trusts the slot and does not parse it again", () => {
    // A name the kernel allows but invalidRoute does not: shows whether the route was re-checked.
    const odd = r("10.100.100.2/32", "10.200.200.2", "odd:name");
    const view = viewOf([k("10.100.100.2/32", { dev: "odd:name" })]);
    expect(diffRouteView([odd], view).failures.map((f) => f.message)).toEqual(["dev is not an interface name"]);
    expect(view.slots.get("10.100.100.2/32")?.checked).toBe(false);

    const good = viewOf([k("10.100.100.2/32")]);
    expect(diffRouteView([r("10.100.100.2/32")], good)).toMatchObject({ upsert: [], remove: [], failures: [] });
    expect(good.slots.get("10.100.100.2/32")?.checked).toBe(true);
    const trusted = {
      ...view,
      slots: new Map([["10.100.100.2/32", slotOf(k("10.100.100.2/32", { dev: "odd:name" }), true)]]),
    };
    expect(diffRouteView([odd], trusted)).toMatchObject({ unchanged: [odd], failures: [] });
    // A changed route is checked again, whatever the memory holds.
    expect(diffRouteView([r("10.100.100.2/32", "10.0.0.1\nroute flush")], good).failures).toEqual([
      { destination: "10.100.100.2/32", reason: "invalid", message: "via is not an IPv4 address" },
    ]);
  });

  it("reports a destination listed twice whether or not we hold a route there", () => {
    const view = viewOf([k("10.100.100.2/32")]);
    const changes = diffRouteView(
      [r("10.100.100.2/32"), r("10.100.100.3/32"), r("10.100.100.2/32", "10.200.200.3"), r("10.100.100.3/32")],
      view,
    );
    expect(changes.failures.map((f) => [f.destination, f.message])).toEqual([
      ["10.100.100.2/32", "destination listed twice"],
      ["10.100.100.3/32", "destination listed twice"],
    ]);
    expect(changes.inPlace).toEqual([r("10.100.100.2/32"), r("10.100.100.3/32")]);
    expect(changes.remove).toEqual([]);
  });

  it("counts strays and slots for the guard, and removes strays even when nothing else changes", () => {
    const view = viewOf([
      k("10.100.100.2/32"),
      k("10.100.100.2/32", { metric: 9 }),
      k("10.100.100.5/32", { owned: false }),
    ]);
    const changes = diffRouteView([r("10.100.100.2/32")], view);
    expect(changes.ownedCount).toBe(2);
    expect(changes.remove.map((x) => [x.destination, x.metric])).toEqual([["10.100.100.2/32", 9]]);
    expect(changes.unchanged).toEqual([r("10.100.100.2/32")]);
  });
});

describe("invalidRoute", () => {
  /** The same rules with the shared parsers, which invalidRoute replaced for speed. */
  function reference(route: { destination: string; via: string; dev: string }): string | undefined {
    const cidr = parseCidr(route.destination);
    if (cidr === undefined || !isNetworkCidr(cidr)) return "destination is not a network CIDR";
    if (cidr.prefix === 0) return "a default route is never the agent's";
    if (parseIpv4(route.via) === undefined) return "via is not an IPv4 address";
    return invalidRoute({ destination: "10.0.0.0/8", via: "10.0.0.1", dev: route.dev });
  }

  it("agrees with the shared parsers on odd spellings and on random addresses", () => {
    const quads = [
      "10.0.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3",
      "1.2.3.4.5",
      "1..2.3",
      ".1.2.3",
      "1.2.3.",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.a",
      "1.2.3.-4",
      "1.2.3.4\n",
      "0x1.2.3.4",
      "1.2.3.00",
      "",
      "1.2.3.4/",
    ];
    const prefixes = ["32", "24", "0", "33", "01", "8", "", "3 2", "-1"];
    const cases: { destination: string; via: string; dev: string }[] = [];
    for (const quad of quads) {
      for (const prefix of prefixes) cases.push({ destination: `${quad}/${prefix}`, via: "10.0.0.1", dev: "eth0" });
      cases.push({ destination: quad, via: "10.0.0.1", dev: "eth0" });
      cases.push({ destination: "10.1.0.0/16", via: quad, dev: "eth0" });
    }
    for (let i = 0; i < 2000; i++) {
      const octets = Array.from({ length: 4 }, () => Math.floor(Math.random() * 300));
      const prefix = Math.floor(Math.random() * 34);
      cases.push({ destination: `${octets.join(".")}/${prefix}`, via: octets.reverse().join("."), dev: "sbb-a" });
    }
    for (const route of cases) expect([route, invalidRoute(route)]).toEqual([route, reference(route)]);
  });
});

describe("renderBatch and parseBatchErrors", () => {
  it("puts every add before any delete, with our protocol on each line", () => {
    const lines = renderBatch(
      { upsert: [r("10.100.100.2/32")], remove: [k("10.100.100.9/32"), k("10.100.100.8/32", { metric: 3 })] },
      180,
    );
    expect(lines).toEqual([
      "route replace 10.100.100.2/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
      "route del 10.100.100.9/32 proto 180 table main",
      "route del 10.100.100.8/32 proto 180 metric 3 table main",
    ]);
  });

  it("maps ip's 'Command failed -:N' lines to their messages", () => {
    const errors = parseBatchErrors(
      'Cannot find device "nosuch"\nCommand failed -:3\nRTNETLINK answers: No such process\nCommand failed -:5\n',
    );
    expect([...errors]).toEqual([
      [3, 'Cannot find device "nosuch"'],
      [5, "RTNETLINK answers: No such process"],
    ]);
  });
});

describe("checkBlastRadius", () => {
  it("lets up to half of the routes go", () => {
    expect(checkBlastRadius({ current: 100, withdraw: 50, verifiedFullSnapshot: false })).toEqual({ allowed: true });
  });

  it("refuses more than half unless the update is a verified full snapshot", () => {
    const refused = checkBlastRadius({ current: 100, withdraw: 51, verifiedFullSnapshot: false });
    expect(refused).toEqual({ allowed: false, reason: expect.stringContaining("51 of 100 routes (51% > 50%)") });
    expect(checkBlastRadius({ current: 100, withdraw: 100, verifiedFullSnapshot: true })).toEqual({ allowed: true });
  });

  it("takes a configured share, and always allows a handful so small networks keep working", () => {
    expect(checkBlastRadius({ current: 100, withdraw: 21, verifiedFullSnapshot: false, maxShare: 0.2 }).allowed).toBe(
      false,
    );
    expect(checkBlastRadius({ current: 2, withdraw: 2, verifiedFullSnapshot: false }).allowed).toBe(true);
    expect(checkBlastRadius({ current: 10, withdraw: 5, verifiedFullSnapshot: false, alwaysAllow: 0 }).allowed).toBe(
      true,
    );
    expect(checkBlastRadius({ current: 10, withdraw: 6, verifiedFullSnapshot: false, alwaysAllow: 0 }).allowed).toBe(
      false,
    );
  });
});
