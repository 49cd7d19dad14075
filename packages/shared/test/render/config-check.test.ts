import { describe, expect, it } from "vitest";
import { ConfigWriter } from "../../src/render/config-writer.ts";
import {
  BACKBONE_RULES,
  type ConfigKind,
  checkRenderedConfig,
  MAX_CONFIG_LINE,
  networkTag,
  type RenderHost,
  type RenderNetwork,
  type RenderSwitch,
  type RuleContext,
  renderBackboneLinkConfigs,
  renderClientProfile,
  renderSwitchServerConfig,
  SERVER_RULES,
  switchPaths,
} from "../../src/render/index.ts";
import { MAX_REMOTE_HOST } from "../../src/render/validate.ts";
import { fakePem, threeSwitch, twoSwitch } from "./fixtures.ts";

/**
 * The allow-list the agent checks configs against (directive-rules.ts) must accept everything
 * the renderers write, for every option they have, and refuse what a compromised API could use
 * to run a program, write a file elsewhere or keep OpenVPN root.
 */

const BASE = "/var/lib/switchboard-agent/abcde";
const paths = switchPaths(BASE);

/** Every option of the server and backbone renderers, each value at least once with every other. */
function networkVariants(): RenderNetwork[] {
  const out: RenderNetwork[] = [];
  for (const proto of ["udp", "tcp"] as const)
    for (const pushRoutes of [[], ["192.168.10.0/24", "10.80.0.0/16"]])
      for (const dnsServers of [[], ["10.100.100.250", "10.100.100.251"]])
        for (const dnsDomain of [undefined, null, "office.example"])
          for (const dataCiphers of [["AES-256-GCM"], ["CHACHA20-POLY1305", "AES-128-GCM", "AES-192-GCM"]])
            for (const backbonePortBase of [undefined, 20000])
              out.push({
                ...twoSwitch.network,
                proto,
                pushRoutes,
                dnsServers,
                dnsDomain,
                dataCiphers,
                backbonePortBase,
                keepaliveInterval: proto === "udp" ? 2 : 3600,
                keepaliveTimeout: proto === "udp" ? 10 : 86400,
              });
  return out;
}

/** With and without a pool; endpoints as names, IPv4 and IPv6 literals (the backbone's `remote`). */
function switchVariants(): RenderSwitch[][] {
  const [a, b] = twoSwitch.switches as [RenderSwitch, RenderSwitch];
  return [
    [a, b],
    [
      { ...a, poolStart: null, poolEnd: null },
      { ...b, poolStart: null, poolEnd: null, endpointHost: "2001:db8::20" },
    ],
  ];
}

function contextFor(network: RenderNetwork, peerOffset?: number): RuleContext {
  return { paths, networkTag: networkTag(network), ...(peerOffset === undefined ? {} : { peerOffset }) };
}

function offsetOf(network: RenderNetwork, sw: RenderSwitch): number {
  const base = Number(network.backboneSubnet.split("/")[0]?.split(".").at(-1));
  return Number(sw.backboneAddress.split(".").at(-1)) - base;
}

describe("every config the renderers write passes the agent's allow-list", () => {
  it("server configs, for every combination of protocol, pool, pushed routes, DNS, domain and ciphers", () => {
    let checked = 0;
    for (const network of networkVariants()) {
      for (const switches of switchVariants()) {
        for (const sw of switches) {
          const config = renderSwitchServerConfig(network, sw, switches, paths);
          expect(checkRenderedConfig("server", config, contextFor(network)), config).toEqual([]);
          checked++;
        }
      }
    }
    expect(checked).toBe(networkVariants().length * 4);
  });

  it("both ends of every backbone link (tls-server and tls-client, UDP and TCP, IPv6 peers)", () => {
    for (const network of networkVariants()) {
      for (const [a, b] of switchVariants() as [RenderSwitch, RenderSwitch][]) {
        const link = renderBackboneLinkConfigs(network, a, b, paths);
        expect(link.a.role).not.toBe(link.b.role);
        expect(checkRenderedConfig("backbone", link.a.config, contextFor(network, offsetOf(network, b)))).toEqual([]);
        expect(checkRenderedConfig("backbone", link.b.config, contextFor(network, offsetOf(network, a)))).toEqual([]);
      }
    }
  });

  it("the three-switch TCP fixture, every link among its switches", () => {
    const { network, switches } = threeSwitch;
    const ctx = contextFor(network);
    for (const sw of switches) {
      expect(checkRenderedConfig("server", renderSwitchServerConfig(network, sw, switches, paths), ctx)).toEqual([]);
    }
    const [x, y] = switches as [RenderSwitch, RenderSwitch];
    const link = renderBackboneLinkConfigs(network, x, y, paths);
    expect(checkRenderedConfig("backbone", link.a.config, contextFor(network, offsetOf(network, y)))).toEqual([]);
  });
});

describe("what a compromised API could send instead is refused", () => {
  const network = twoSwitch.network;
  const [a, b] = twoSwitch.switches as [RenderSwitch, RenderSwitch];
  const server = renderSwitchServerConfig(network, a, twoSwitch.switches, paths);
  const backbone = renderBackboneLinkConfigs(network, a, b, paths).a.config;
  const peer = offsetOf(network, b);
  const withLine = (config: string, line: string) => `${config}${line}\n`;
  const problems = (kind: ConfigKind, text: string) =>
    checkRenderedConfig(kind, text, contextFor(network, kind === "backbone" ? peer : undefined));

  const hostileServerLines: Record<string, string> = {
    "an up script": `up "/bin/sh -c touch /tmp/owned"`,
    "an up script (plain)": "up /tmp/owned.sh",
    "a down script": "down /tmp/owned.sh",
    "a route-up script": "route-up /tmp/owned.sh",
    "an ipchange script": "ipchange /tmp/owned.sh",
    "a learn-address script": "learn-address /tmp/owned.sh",
    "a tls-verify script": "tls-verify /tmp/owned.sh",
    "an auth-user-pass-verify script": "auth-user-pass-verify /tmp/owned.sh via-env",
    "a plugin": "plugin /usr/lib/x86_64-linux-gnu/openvpn/plugins/openvpn-plugin-down-root.so /tmp/owned.sh",
    "script-security 3": "script-security 3",
    "a second client-connect program": "client-connect /tmp/x",
    "a client-disconnect program elsewhere": "client-disconnect /var/lib/switchboard-agent/abcde/../x",
    "another config file": "config /etc/openvpn/other.conf",
    "a TCP management port": "management 127.0.0.1 7505",
    "another management socket": "management /run/other.sock unix",
    "a status file elsewhere": "status /etc/cron.d/owned 10",
    "a log file": "log /etc/passwd",
    "a pid file": "writepid /etc/shadow",
    "running as root": "user root",
    "a chroot": "chroot /tmp",
    "a tmp-dir": "tmp-dir /tmp",
    "a setenv": "setenv PATH /tmp",
    "an iproute program": "iproute /tmp/owned.sh",
    "a double-dash option": "--up /tmp/owned.sh",
    "a tab between name and value": "up\t/tmp/owned.sh",
    "a leading space": " up /tmp/owned.sh",
    "an inline block": "<connection>",
    "a semicolon comment": ";up /tmp/owned.sh",
    "a pushed script option": 'push "route-up /tmp/owned.sh"',
    "a push with a quote inside": 'push "route 10.0.0.0 255.0.0.0" "x"',
    "a CA file elsewhere": "ca /etc/ssl/certs/ca-certificates.crt",
    "another device": "dev tun0",
    "a carriage return": "verb 3\r",
  };
  for (const [what, line] of Object.entries(hostileServerLines)) {
    it(`server config: ${what}`, () => {
      const found = problems("server", withLine(server, line));
      expect(found).toHaveLength(1);
      expect(found[0]?.line).toBe(server.split("\n").length);
    });
  }

  it("server config: an inline block with content, every one of its lines", () => {
    const found = problems("server", withLine(server, "<tls-crypt>\n-----BEGIN x-----\n</tls-crypt>"));
    expect(found.length).toBeGreaterThanOrEqual(2);
  });

  it("a comment line longer than OpenVPN reads (its rest would be a directive of its own in older versions)", () => {
    const long = `# ${"x".repeat(MAX_CONFIG_LINE - 2)}up /tmp/owned.sh`;
    expect(problems("server", withLine(server, long))).toEqual([
      { line: server.split("\n").length, message: `longer than ${MAX_CONFIG_LINE} characters` },
    ]);
  });

  it("a config without user and group (OpenVPN would stay root)", () => {
    const rootly = server
      .split("\n")
      .filter((line) => !/^(user|group) /.test(line))
      .join("\n");
    expect(problems("server", rootly).map((p) => p.message)).toEqual(["'user' is missing", "'group' is missing"]);
  });

  it("backbone config: a link end that names the data server's tls-crypt key (the one hosts have)", () => {
    const shared = backbone.replace(paths.backboneTlsCryptKey, paths.tlsCryptKey);
    expect(problems("backbone", shared)).toEqual([
      expect.objectContaining({ message: expect.stringContaining("backboneTlsCryptKey") }),
    ]);
  });

  it("backbone config: scripts, another peer's socket, a push, server-only directives", () => {
    for (const line of [
      "up /tmp/owned.sh",
      "script-security 2",
      "client-connect /var/lib/switchboard-agent/abcde/client-hook",
      `management ${BASE}/backbone-9.sock unix`,
      'push "route 10.0.0.0 255.0.0.0"',
      "verify-x509-name server.sw-b name",
    ]) {
      expect(problems("backbone", withLine(backbone, line)), line).toHaveLength(1);
    }
  });

  it("a config that does not end with a newline, or is not text", () => {
    expect(problems("server", server.slice(0, -1))).toEqual([{ line: 0, message: expect.any(String) }]);
    expect(problems("server", 42 as unknown as string)).toEqual([{ line: 0, message: expect.any(String) }]);
  });
});

describe("the longest values the validators accept fit a line OpenVPN reads", () => {
  const name = (length: number) => {
    const labels = ["a".repeat(63), "b".repeat(63), "c".repeat(63)];
    const rest = length - 3 * 64;
    return [...labels, "d".repeat(rest)].join(".");
  };
  const [a, b] = twoSwitch.switches as [RenderSwitch, RenderSwitch];

  it(`an endpoint of ${MAX_REMOTE_HOST} characters on port 65535: profile and both backbone ends render and pass`, () => {
    const far = { ...b, endpointHost: name(MAX_REMOTE_HOST), endpointPort: 65535 };
    const network = { ...twoSwitch.network, port: 65000, backbonePortBase: 65533 };
    const link = renderBackboneLinkConfigs(network, a, far, paths);
    expect(link.a.config).toMatch(new RegExp(`\\nremote ${far.endpointHost} 6553[0-9]\\n`));
    expect(checkRenderedConfig("backbone", link.a.config, contextFor(network, offsetOf(network, far)))).toEqual([]);
    const profile = renderClientProfile(network, twoSwitch.hosts[0] as RenderHost, [a, far], {
      caPem: fakePem("CERTIFICATE", "ca"),
    });
    expect(Math.max(...profile.split("\n").map((line) => line.length))).toBeLessThanOrEqual(MAX_CONFIG_LINE);
  });

  it(`an endpoint one character longer is refused by the validator, naming the field`, () => {
    expect(() =>
      renderBackboneLinkConfigs(twoSwitch.network, a, { ...b, endpointHost: name(MAX_REMOTE_HOST + 1) }, paths),
    ).toThrow(expect.objectContaining({ field: "link[1].endpointHost" }));
  });
});

describe("the renderers cannot drift from the allow-list", () => {
  it("a writer bound to the server list refuses a directive the list lacks", () => {
    expect(() => new ConfigWriter(SERVER_RULES).directive("up", "/tmp/x")).toThrow(/allow-list/);
    expect(() => new ConfigWriter(SERVER_RULES).push("route-up", "/tmp/x")).toThrow(/allow-list/);
    expect(() => new ConfigWriter(BACKBONE_RULES).push("route", "10.0.0.0", "255.0.0.0")).toThrow(/allow-list/);
    expect(() => new ConfigWriter(BACKBONE_RULES).inline("ca", "x")).toThrow(/inline/);
  });

  it("any writer refuses a line longer than OpenVPN reads", () => {
    expect(() => new ConfigWriter().directive("remote", "a".repeat(MAX_CONFIG_LINE), 1194)).toThrow(/longer/);
  });
});
