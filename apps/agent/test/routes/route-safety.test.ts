import { describe, expect, it } from "vitest";
import { parseDefaultGateways, parseRouteGetJson } from "../../src/routes/kernel-routes.ts";
import { unsafeRoutes } from "../../src/routes/route-safety.ts";

const API = { address: "198.18.1.2", what: "the API host 198.18.1.2" };
const routed = (...destinations: string[]) => destinations.map((destination) => ({ destination, source: "route" }));

describe("unsafeRoutes: a route must not cover what the switch needs to reach", () => {
  it("names every prefix that covers a kept address, once, with the address and what it is", () => {
    const errors = unsafeRoutes(
      routed("128.0.0.0/1", "198.18.0.0/16", "198.18.1.2/32", "10.100.100.7/32", "128.0.0.0/1"),
      [API],
    );
    expect(errors.map((e) => e.target)).toEqual(["128.0.0.0/1", "198.18.0.0/16", "198.18.1.2/32"]);
    expect(errors[0]).toEqual({
      scope: "route",
      target: "128.0.0.0/1",
      message: expect.stringContaining("covers 198.18.1.2, the API host 198.18.1.2"),
    });
  });

  it("lets routes through that cover nothing kept, including the neighbours of a kept address", () => {
    expect(unsafeRoutes(routed("198.18.1.3/32", "198.18.1.0/31", "0.0.0.0/1", "10.0.0.0/8"), [API])).toEqual([]);
  });

  it("catches a default route and the edges of the address space", () => {
    const kept = [
      { address: "0.0.0.1", what: "low" },
      { address: "255.255.255.254", what: "high" },
    ];
    expect(unsafeRoutes(routed("0.0.0.0/0", "255.255.255.254/31", "0.0.0.0/31"), kept).map((e) => e.target)).toEqual([
      "0.0.0.0/0",
      "255.255.255.254/31",
      "0.0.0.0/31",
    ]);
  });

  it("ignores what is no CIDR rather than matching it", () => {
    expect(unsafeRoutes(routed("198.18.1.2", "198.18.1.2/33", "198.18.1.256/32", "198.18.1/24", "x/8"), [API])).toEqual(
      [],
    );
  });
});

describe("parsing the kernel's answers", () => {
  it("reads the gateway and device of `ip -json route get`, and a local answer", () => {
    expect(
      parseRouteGetJson(
        '[{"dst":"1.1.1.1","gateway":"192.0.2.1","dev":"eth0","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]',
      ),
    ).toEqual({ gateway: "192.0.2.1", dev: "eth0", type: "unicast" });
    expect(parseRouteGetJson('[{"type":"local","dst":"127.0.0.1","dev":"lo","cache":["local"]}]')).toEqual({
      gateway: undefined,
      dev: "lo",
      type: "local",
    });
    expect(parseRouteGetJson("")).toBeUndefined();
  });

  it("reads the default routes' gateways", () => {
    expect(
      parseDefaultGateways(
        '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"default","gateway":"192.0.2.1","dev":"eth1","metric":5,"flags":[]},{"dst":"default","dev":"wg0","flags":[]}]',
      ),
    ).toEqual(["192.0.2.1"]);
  });
});
