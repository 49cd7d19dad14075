import { describe, expect, it } from "vitest";
import { parseCidr, specialUseOverlap } from "../../src/net/index.ts";
import {
  checkNetwork,
  checkSwitchSet,
  fieldRules,
  RenderError,
  renderBackboneEndConfig,
  renderSwitchServerConfig,
  switchPaths,
} from "../../src/render/index.ts";
import { twoSwitch } from "./fixtures.ts";

/**
 * The network- and switch-level rules the API now calls before it stores anything (issue 13),
 * checked here on the renderers themselves: each value a renderer refuses is refused with the
 * field it belongs to, so the API's 400 and the renderer's 409 are one rule.
 */

function refusal(render: () => unknown): RenderError {
  try {
    render();
  } catch (error) {
    if (error instanceof RenderError) return error;
    throw error;
  }
  throw new Error("expected a RenderError, the value was accepted");
}

const { network, switches } = twoSwitch;
const paths = switchPaths("/srv/sb");
const [a, b] = switches as [(typeof switches)[0], (typeof switches)[0]];

describe("special-use ranges", () => {
  it.each([
    ["127.0.0.0/8", "loopback"],
    ["10.0.0.0/8", undefined],
    ["169.254.169.254/32", "link-local"],
    ["255.255.255.255/32", "broadcast"],
    ["240.0.0.0/5", "reserved"],
    ["0.0.0.0/24", "this-network"],
    ["192.0.0.0/2", "multicast"],
    ["100.64.0.0/10", undefined],
  ])("%s overlaps %s", (text, kind) => {
    expect(specialUseOverlap(parseCidr(text) ?? { address: 0, prefix: 0 })?.kind).toBe(kind);
  });
});

describe("network rules", () => {
  it.each([
    ["backboneSubnet", { backboneSubnet: "10.0.0.0/8" }, "/16 to /30"],
    ["backboneSubnet", { backboneSubnet: "10.64.0.0/15" }, "/16 to /30"],
    ["backboneSubnet", { backboneSubnet: "127.0.0.0/24" }, "loopback"],
    ["dataSubnet", { dataSubnet: "0.0.0.0/24" }, '"this network"'],
    ["dnsDomain", { dnsDomain: "10.0.0.1" }, "not an address"],
    ["dnsDomain", { dnsDomain: "vpn.123" }, "not an address"],
    ["dnsServers[0]", { dnsServers: ["224.0.0.251"] }, "multicast"],
    ["dnsServers[0]", { dnsServers: ["255.255.255.255"] }, "broadcast"],
    ["pushRoutes[0]", { pushRoutes: ["169.254.0.0/16"] }, "link-local"],
    ["pushRoutes[0]", { pushRoutes: ["10.100.100.0/25"] }, "data subnet"],
    ["keepaliveTimeout", { keepaliveInterval: 10, keepaliveTimeout: 15 }, "twice keepaliveInterval"],
  ])("refuses network.%s for %o", (field, overrides, rule) => {
    const error = refusal(() => renderSwitchServerConfig({ ...network, ...overrides }, a, switches, paths));
    expect(error.field).toBe(`network.${field}`);
    expect(error.rule).toContain(rule);
  });

  it("names the field with the prefix the caller gives (the API passes body)", () => {
    expect(refusal(() => checkNetwork({ ...network, dnsDomain: "corp.7" }, "body")).field).toBe("body.dnsDomain");
  });
});

describe("switch rules", () => {
  it.each(["300.1.1.1", "1.2.3", "10.100.100.256", "0x0a.100.100.5", "vpn.123", "0.0.0.0", "239.1.1.1"])(
    "refuses the remote %s",
    (endpointHost) => {
      expect(refusal(() => fieldRules.remoteHost("body.endpointHost", endpointHost)).field).toBe("body.endpointHost");
    },
  );

  it.each(["vpn.example.net", "198.51.100.20", "127.0.0.1", "2001:db8::1", "a"])("accepts the remote %s", (host) => {
    expect(fieldRules.remoteHost("endpointHost", host)).toBe(host);
  });

  it("refuses every switch whose backbone port (port + offset) passes 65535, linked or not", () => {
    const high = { ...network, port: 65534 };
    const set = [a, { ...b, enabled: false }];
    const error = refusal(() => checkSwitchSet(checkNetwork(high), set));
    expect(error.field).toBe("switches[1].backboneAddress");
    expect(error.rule).toContain("65536");
    // The server config checks the same set, so the API's check and the renderer's agree.
    expect(refusal(() => renderSwitchServerConfig(high, a, set, paths)).rule).toContain("past 65535");
    expect(() => renderBackboneEndConfig({ ...network, port: 65533 }, a, b, paths)).not.toThrow();
  });
});
