import { describe, expect, it } from "vitest";
import {
  backboneCommonName,
  backboneDeviceName,
  backboneLinkPaths,
  COMMON_NAME_PATTERN,
  ccdFileName,
  linkPort,
  networkTag,
  RenderError,
  type RenderSwitch,
  renderBackboneEndConfig,
  renderBackboneLinkConfigs,
  serverDeviceName,
  switchPaths,
} from "../../src/render/index.ts";
import { threeSwitch, twoSwitch } from "./fixtures.ts";

const IFNAMSIZ_MAX = 15;
const [a, b, c] = threeSwitch.switches as [RenderSwitch, RenderSwitch, RenderSwitch];
const net = threeSwitch.network;

describe("device names", () => {
  it("are stable, short and made of safe characters for any network name", () => {
    expect(serverDeviceName({ name: "office" })).toBe(serverDeviceName({ name: "office" }));
    for (const name of ["office", "a", "ä very long network name with spaces and ünïcode".repeat(3), "x\ny"]) {
      const device = serverDeviceName({ name });
      expect(device).toMatch(/^sbs-[0-9a-z]{5}$/);
      expect(device.length).toBeLessThanOrEqual(IFNAMSIZ_MAX);
    }
  });

  it("differ between networks (no collision among 10,000 names)", () => {
    const tags = new Set(Array.from({ length: 10_000 }, (_, i) => networkTag({ name: `network-${i}` })));
    expect(tags.size).toBe(10_000);
  });

  it("fit IFNAMSIZ even for the last address of a /16 backbone", () => {
    const wide = { ...net, backboneSubnet: "172.16.0.0/16" };
    const device = backboneDeviceName(wide, { ...b, backboneAddress: "172.16.255.254" });
    expect(device).toMatch(/^sbb-[0-9a-z]{5}-65534$/);
    expect(device.length).toBe(IFNAMSIZ_MAX);
  });

  it("are unique per switch: one backbone device per peer, none equal to the server device", () => {
    const devices = [b, c].map((peer) => renderBackboneEndConfig(net, a, peer, switchPaths("/srv/a")).device);
    expect(new Set([...devices, serverDeviceName(net)]).size).toBe(3);
  });
});

describe("backbone links", () => {
  it("listen on the base port plus the peer's offset, so every switch uses distinct ports", () => {
    expect(linkPort(net, a, b)).toBe(443 + 2);
    expect(linkPort(net, a, c)).toBe(443 + 3);
    expect(linkPort(net, b, a)).toBe(443 + 1);
    expect(linkPort({ ...net, backbonePortBase: 20000 }, c, a)).toBe(20001);
  });

  it("pair each end's remote port with the other end's listening port", () => {
    const link = renderBackboneLinkConfigs(net, b, c, switchPaths("/srv/x"));
    expect(link.a.remotePort).toBe(link.b.localPort);
    expect(link.b.remotePort).toBe(link.a.localPort);
  });

  it("make the lower backbone address the TLS server whatever the argument order", () => {
    const forward = renderBackboneLinkConfigs(net, a, b, switchPaths("/srv/x"));
    const backward = renderBackboneLinkConfigs(net, b, a, switchPaths("/srv/x"));
    expect(forward.a.role).toBe("tls-server");
    expect(backward.b.role).toBe("tls-server");
    expect(backward.b.config).toBe(forward.a.config);
  });

  it("give one switch's end the same text alone as in the pair", () => {
    const paths = switchPaths("/srv/x");
    expect(renderBackboneEndConfig(net, c, a, paths)).toEqual(renderBackboneLinkConfigs(net, a, c, paths).b);
  });

  it("refuse a port beyond 65535 and a port equal to the network port", () => {
    expect(() => linkPort({ ...net, backbonePortBase: 65534 }, a, c)).toThrow(RenderError);
    expect(() => linkPort({ ...net, backbonePortBase: 441 }, a, b)).toThrow(/collide with the network port/);
  });

  it("keep their files next to the switch's other files", () => {
    expect(backboneLinkPaths(switchPaths("/srv/x"), 3)).toEqual({
      config: "/srv/x/backbone-3.conf",
      managementSocket: "/srv/x/backbone-3.sock",
    });
  });

  it("name backbone certificates within the CN alphabet the PKI accepts", () => {
    expect(backboneCommonName(a)).toBe("backbone.0b6f6f1e-2b1a-4a57-9f0e-1c2d3e4f5a61");
    expect(COMMON_NAME_PATTERN.test(backboneCommonName(a))).toBe(true);
  });

  it("demand serverAuth from the peer on the TLS server end, which host certificates lack", () => {
    const link = renderBackboneLinkConfigs(net, a, b, switchPaths("/srv/x"));
    expect(link.a.config).toContain("\nremote-cert-eku 1.3.6.1.5.5.7.3.1\n");
    expect(link.a.config).not.toContain("remote-cert-tls");
    expect(link.b.config).toContain("\nremote-cert-tls server\n");
  });

  it("use UDP on both ends with float, or tcp-server and tcp-client over TCP", () => {
    const udp = renderBackboneLinkConfigs(
      twoSwitch.network,
      twoSwitch.switches[0] as RenderSwitch,
      twoSwitch.switches[1] as RenderSwitch,
      switchPaths("/srv/x"),
    );
    for (const end of [udp.a, udp.b]) expect(end.config).toMatch(/^proto udp\nlport \d+\nremote \S+ \d+\nfloat$/m);
    const tcp = renderBackboneLinkConfigs(net, a, b, switchPaths("/srv/x"));
    expect(tcp.a.config).toMatch(/^proto tcp-server\nlport 445$/m);
    expect(tcp.a.config).not.toMatch(/^remote /m);
    expect(tcp.b.config).toMatch(/^proto tcp-client\nremote hel1\.vpn\.example\.org 445\nnobind$/m);
    expect(tcp.a.config + tcp.b.config).not.toMatch(/explicit-exit-notify/);
  });
});

describe("paths", () => {
  it("derive every file from the base directory", () => {
    const paths = switchPaths("/var/lib/switchboard-agent/office");
    for (const [key, value] of Object.entries(paths)) {
      expect(value.startsWith("/var/lib/switchboard-agent/office"), key).toBe(true);
    }
  });

  it("refuse a base directory that is not a clean absolute path", () => {
    expect(() => switchPaths("var/lib")).toThrow(RenderError);
    expect(() => switchPaths("/var/lib/")).toThrow(RenderError);
    expect(() => switchPaths("/var/lib/a b")).toThrow(RenderError);
  });

  it("name the client-config file after the CN", () => {
    expect(ccdFileName({ commonName: "web-1" })).toBe("web-1");
    expect(() => ccdFileName({ commonName: "../web" })).toThrow(RenderError);
  });
});
