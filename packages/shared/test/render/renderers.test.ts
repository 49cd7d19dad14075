import { describe, expect, it } from "vitest";
import {
  type RenderHost,
  type RenderSwitch,
  renderBackboneLinkConfigs,
  renderClientConfigFile,
  renderClientProfile,
  renderSwitchServerConfig,
  SERVER_NAME_PREFIX,
  SERVER_POLL_TIMEOUT,
  serverCommonName,
  switchPaths,
} from "../../src/render/index.ts";
import { fakePem, threeSwitch, twoSwitch } from "./fixtures.ts";

const paths = switchPaths("/srv/sb");
const ca = { caPem: fakePem("CERTIFICATE", "ca") };

function allOutputs(): string[] {
  return [twoSwitch, threeSwitch].flatMap(({ network, switches, hosts }) => [
    ...switches.map((sw) => renderSwitchServerConfig(network, sw, switches, paths)),
    ...hosts.flatMap((host) => renderClientConfigFile(network, host, switches) ?? []),
    ...hosts.map((host) => renderClientProfile(network, host, switches, ca)),
    renderBackboneLinkConfigs(network, switches[0] as RenderSwitch, switches[1] as RenderSwitch, paths).a.config,
  ]);
}

describe("server config", () => {
  const [a, b] = twoSwitch.switches as [RenderSwitch, RenderSwitch];
  const udp = renderSwitchServerConfig(twoSwitch.network, b, twoSwitch.switches, paths);
  const tcp = renderSwitchServerConfig(
    threeSwitch.network,
    threeSwitch.switches[1] as RenderSwitch,
    threeSwitch.switches,
    paths,
  );

  it("leaves ifconfig-pool out for a switch without a pool, and keeps hosts out of other pools", () => {
    const poolless = { ...b, poolStart: null, poolEnd: null };
    const config = renderSwitchServerConfig(twoSwitch.network, poolless, [a, poolless], paths);
    expect(config).not.toContain("ifconfig-pool");
    expect(config).toContain("\nifconfig 10.100.100.101 255.255.255.0\n");
    const inPoolOfA = { ...(twoSwitch.hosts[0] as RenderHost), address: a.poolStart as string };
    expect(() => renderClientConfigFile(twoSwitch.network, inPoolOfA, [a, poolless])).toThrow(/dynamic pool/);
  });

  it("gives each switch its own address, pool slice and route-gateway in the shared subnet", () => {
    expect(udp).toContain("\nifconfig 10.100.100.101 255.255.255.0\n");
    expect(udp).toContain("\nifconfig-pool 10.100.100.102 10.100.100.200 255.255.255.0\n");
    expect(udp).toContain('\npush "route-gateway 10.100.100.101"\n');
    expect(renderSwitchServerConfig(twoSwitch.network, a, twoSwitch.switches, paths)).toContain(
      '\npush "route-gateway 10.100.100.1"\n',
    );
  });

  it("uses explicit-exit-notify 2 over UDP only, and tcp-server over TCP", () => {
    expect(udp).toContain("\nproto udp\n");
    expect(udp).toContain("\nexplicit-exit-notify 2\n");
    expect(tcp).toContain("\nproto tcp-server\n");
    expect(tcp).not.toContain("explicit-exit-notify");
  });

  it("refuses unknown certificates through ccd-exclusive and pins AEAD ciphers", () => {
    expect(udp).toMatch(/^client-config-dir \/srv\/sb\/ccd\nccd-exclusive$/m);
    expect(udp).toContain("\ndata-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305\n");
    expect(udp).toContain("\nremote-cert-tls client\n");
  });

  it("drops to nobody:nogroup after start, keeping keys and device, and leaves out host-specific routes", () => {
    expect(udp).toMatch(/^user nobody\ngroup nogroup\npersist-key\npersist-tun$/m);
    expect(udp).not.toMatch(/^route /m);
  });
});

describe("backbone link end", () => {
  const { network, switches } = twoSwitch;
  const link = renderBackboneLinkConfigs(network, switches[0] as RenderSwitch, switches[1] as RenderSwitch, paths);

  it("uses the links' own tls-crypt key, which no host profile carries, and pins the peer's exact name", () => {
    for (const end of [link.a, link.b]) {
      expect(end.config).toContain("\ntls-crypt /srv/sb/backbone-tls-crypt.key\n");
      expect(end.config).not.toContain("/srv/sb/tls-crypt.key");
      expect(end.config).toContain(`\nverify-x509-name backbone.${end.peerId} name\n`);
    }
  });

  it("drops to nobody:nogroup after start, keeping keys and device", () => {
    expect(link.a.config).toMatch(/^user nobody\ngroup nogroup\npersist-key\npersist-tun$/m);
  });
});

describe("client-config file", () => {
  const { network, switches, hosts } = twoSwitch;

  it("pushes the static address, the host's routes and iroutes its subnets", () => {
    expect(renderClientConfigFile(network, hosts[0] as RenderHost, switches)).toBe(
      [
        "# Switchboard host web-1. The agent overwrites this file.",
        "ifconfig-push 10.100.100.210 255.255.255.0",
        'push-remove "route 192.168.10.0 255.255.255.0"',
        'push "route 172.16.0.0 255.255.0.0"',
        "iroute 192.168.10.0 255.255.255.0",
        "",
      ].join("\n"),
    );
  });

  it("is not written for a disabled host, so ccd-exclusive refuses it", () => {
    expect(renderClientConfigFile(network, hosts[2] as RenderHost, switches)).toBeUndefined();
  });

  it("can be rendered without the switch list (then pools are not checked)", () => {
    expect(renderClientConfigFile(network, { ...(hosts[1] as RenderHost), address: "10.100.100.50" })).toContain(
      "ifconfig-push 10.100.100.50 255.255.255.0",
    );
  });
});

describe("client profile", () => {
  const { network, switches, hosts } = threeSwitch;
  const host = hosts[0] as RenderHost;

  it("lists one remote per enabled switch, ordered by switch name whatever the input order", () => {
    const forward = renderClientProfile(network, host, switches, ca);
    const reversed = renderClientProfile(network, host, [...switches].reverse(), ca);
    expect(reversed).toBe(forward);
    expect(forward.match(/^remote .*$/gm)).toEqual([
      "remote hel1.vpn.example.org 443",
      "remote gra.vpn.example.org 443",
    ]);
    expect(forward).not.toContain("203.0.113.7");
  });

  it("fails over fast and adds remote-random only on request", () => {
    const text = renderClientProfile(network, host, switches, ca);
    expect(text).toContain(`\nserver-poll-timeout ${SERVER_POLL_TIMEOUT}\n`);
    expect(text).not.toContain("remote-random");
    expect(renderClientProfile({ ...network, remoteRandom: true }, host, switches, ca)).toContain("\nremote-random\n");
  });

  it("uses tcp-client over TCP and explicit-exit-notify 1 over UDP only", () => {
    expect(renderClientProfile(network, host, switches, ca)).toContain("\nproto tcp-client\n");
    expect(renderClientProfile(network, host, switches, ca)).not.toContain("explicit-exit-notify");
    const udp = renderClientProfile(twoSwitch.network, twoSwitch.hosts[0] as RenderHost, twoSwitch.switches, ca);
    expect(udp).toContain("\nproto udp\n");
    expect(udp).toContain("\nexplicit-exit-notify 1\n");
  });

  it("inlines only the secrets that exist", () => {
    const text = renderClientProfile(network, host, switches, ca);
    expect(text).toContain("<ca>\n-----BEGIN CERTIFICATE-----\n");
    expect(text).not.toMatch(/<cert>|<key>|<tls-crypt>/);
  });

  it("accepts only a server certificate named server.<switch id>, not a backbone one (serverAuth too)", () => {
    expect(renderClientProfile(network, host, switches, ca)).toMatch(
      /^remote-cert-tls server\nverify-x509-name server\. name-prefix$/m,
    );
    expect(serverCommonName(switches[0] as RenderSwitch)).toMatch(
      new RegExp(`^${SERVER_NAME_PREFIX.replace(".", "\\.")}`),
    );
  });

  it("refuses two enabled switches with the same endpoint", () => {
    const same = switches.map((sw) => ({ ...sw, endpointHost: "vpn.example.org", endpointPort: 443 }));
    expect(() => renderClientProfile(network, host, same, ca)).toThrow(/share the endpoint/);
  });
});

describe("all outputs", () => {
  it("never enable compression", () => {
    for (const text of allOutputs()) expect(text).not.toMatch(/^(comp-lzo|compress)\b/m);
  });

  it("end every file with exactly one newline", () => {
    for (const text of allOutputs()) expect(text).toMatch(/[^\n]\n$/);
  });
});
