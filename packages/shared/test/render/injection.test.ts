import { describe, expect, it } from "vitest";
import { ConfigWriter } from "../../src/render/config-writer.ts";
import {
  type ProfileSecrets,
  RenderError,
  type RenderHost,
  type RenderNetwork,
  type RenderPaths,
  type RenderSwitch,
  renderBackboneLinkConfigs,
  renderClientConfigFile,
  renderClientProfile,
  renderSwitchServerConfig,
  switchPaths,
} from "../../src/render/index.ts";
import { fakePem, fakeTlsCryptKey, twoSwitch } from "./fixtures.ts";

/** Hostile or broken values: each must be refused with a RenderError naming the field, never rendered. */

const { network, switches, hosts } = twoSwitch;
const [swA, swB] = switches as [RenderSwitch, RenderSwitch];
const host = hosts[0] as RenderHost;
const paths = switchPaths("/var/lib/switchboard-agent/office");
const secrets: ProfileSecrets = {
  caPem: fakePem("CERTIFICATE", "ca"),
  certPem: fakePem("CERTIFICATE", "web-1"),
  keyPem: fakePem("PRIVATE KEY", "web-1"),
  tlsCryptKey: fakeTlsCryptKey(1),
};

type Loose<T> = { [K in keyof T]?: unknown };

function everything(
  net: Loose<RenderNetwork> = {},
  sw: Loose<RenderSwitch> = {},
  h: Loose<RenderHost> = {},
  p: Loose<RenderPaths> = {},
  s: Loose<ProfileSecrets> = {},
): void {
  const n = { ...network, ...net } as RenderNetwork;
  const a = { ...swA, ...sw } as RenderSwitch;
  const all = [a, swB];
  const hh = { ...host, ...h } as RenderHost;
  const pp = { ...paths, ...p } as RenderPaths;
  renderSwitchServerConfig(n, a, all, pp);
  renderClientConfigFile(n, hh, all);
  renderBackboneLinkConfigs(n, a, swB, pp);
  renderClientProfile(n, hh, all, { ...secrets, ...s } as ProfileSecrets);
}

function refusal(run: () => unknown): RenderError {
  try {
    run();
  } catch (error) {
    if (error instanceof RenderError) return error;
    throw error;
  }
  throw new Error("rendered instead of refusing");
}

const PEM_TAIL = "-----END CERTIFICATE-----\n";
const cases: ReadonlyArray<readonly [string, string, () => unknown]> = [
  [
    "CN with a newline and a directive",
    "host.commonName",
    () => everything({}, {}, { commonName: "web\nifconfig-push 1.2.3.4" }),
  ],
  ["CN with a carriage return", "host.commonName", () => everything({}, {}, { commonName: "web\r" })],
  ["CN with a double quote", "host.commonName", () => everything({}, {}, { commonName: 'web"1' })],
  ["CN with a backslash", "host.commonName", () => everything({}, {}, { commonName: "web\\1" })],
  ["CN with NUL", "host.commonName", () => everything({}, {}, { commonName: "web\u00001" })],
  ["CN with a tag", "host.commonName", () => everything({}, {}, { commonName: "</ca>" })],
  ["CN starting with -", "host.commonName", () => everything({}, {}, { commonName: "-web" })],
  ["CN with a path", "host.commonName", () => everything({}, {}, { commonName: "../etc/passwd" })],
  ["CN ..", "host.commonName", () => everything({}, {}, { commonName: ".." })],
  ["CN DEFAULT", "host.commonName", () => everything({}, {}, { commonName: "DEFAULT" })],
  ["CN with a space", "host.commonName", () => everything({}, {}, { commonName: "web 1" })],
  ["CN of 65 chars", "host.commonName", () => everything({}, {}, { commonName: "a".repeat(65) })],
  ["CN empty", "host.commonName", () => everything({}, {}, { commonName: "" })],
  ["CN not a string", "host.commonName", () => everything({}, {}, { commonName: 42 })],
  [
    "address with a newline",
    "host.address",
    () => everything({}, {}, { address: '10.100.100.210\npush "route 0.0.0.0 0.0.0.0"' }),
  ],
  ["address with leading zeros", "host.address", () => everything({}, {}, { address: "10.100.100.021" })],
  ["address with a space", "host.address", () => everything({}, {}, { address: " 10.100.100.210" })],
  ["address is the network address", "host.address", () => everything({}, {}, { address: "10.100.100.0" })],
  ["address is the broadcast address", "host.address", () => everything({}, {}, { address: "10.100.100.255" })],
  ["address outside the subnet", "host.address", () => everything({}, {}, { address: "10.100.101.5" })],
  ["address inside a pool", "host.address", () => everything({}, {}, { address: "10.100.100.150" })],
  ["address of a switch", "host.address", () => everything({}, {}, { address: "10.100.100.101" })],
  [
    "subnet with a newline",
    "host.subnets[0]",
    () => everything({}, {}, { subnets: ["192.168.10.0/24\niroute 0.0.0.0 0.0.0.0"] }),
  ],
  ["subnet with host bits", "host.subnets[0]", () => everything({}, {}, { subnets: ["192.168.10.1/24"] })],
  ["subnet /0", "host.subnets[0]", () => everything({}, {}, { subnets: ["0.0.0.0/0"] })],
  ["subnet overlapping the data subnet", "host.subnets[0]", () => everything({}, {}, { subnets: ["10.100.0.0/16"] })],
  ["subnet overlapping the backbone", "host.subnets[0]", () => everything({}, {}, { subnets: ["10.200.200.128/25"] })],
  [
    "subnets overlapping each other",
    "host.subnets[1]",
    () => everything({}, {}, { subnets: ["192.168.10.0/24", "192.168.10.128/25"] }),
  ],
  ["host route with a quote", "host.pushRoutes[0]", () => everything({}, {}, { pushRoutes: ['10.9.0.0/16" "x'] })],
  ["host route /0", "host.pushRoutes[0]", () => everything({}, {}, { pushRoutes: ["0.0.0.0/0"] })],
  [
    "host route inside its own subnet",
    "host.pushRoutes[0]",
    () => everything({}, {}, { pushRoutes: ["192.168.10.128/25"] }),
  ],
  [
    "host route repeated",
    "host.pushRoutes[1]",
    () => everything({}, {}, { pushRoutes: ["10.9.0.0/16", "10.9.0.0/16"] }),
  ],
  ["host enabled not a boolean", "host.enabled", () => everything({}, {}, { enabled: "yes" })],
  [
    "domain with a newline",
    "network.dnsDomain",
    () => everything({ dnsDomain: 'office.example\npush "route 0.0.0.0 0.0.0.0"' }),
  ],
  ["domain with a quote", "network.dnsDomain", () => everything({ dnsDomain: 'office"example' })],
  ["domain starting with -", "network.dnsDomain", () => everything({ dnsDomain: "-office.example" })],
  ["domain with a space", "network.dnsDomain", () => everything({ dnsDomain: "office example" })],
  ["domain with a trailing dot", "network.dnsDomain", () => everything({ dnsDomain: "office.example." })],
  ["two DNS servers in one entry", "network.dnsServers[0]", () => everything({ dnsServers: ["1.1.1.1 8.8.8.8"] })],
  ["CBC cipher", "network.dataCiphers[0]", () => everything({ dataCiphers: ["AES-256-CBC"] })],
  ["BF-CBC cipher", "network.dataCiphers[1]", () => everything({ dataCiphers: ["AES-256-GCM", "BF-CBC"] })],
  [
    "cipher list smuggled in one name",
    "network.dataCiphers[0]",
    () => everything({ dataCiphers: ["AES-256-GCM:BF-CBC"] }),
  ],
  ["lower-case cipher", "network.dataCiphers[0]", () => everything({ dataCiphers: ["aes-256-gcm"] })],
  ["no cipher", "network.dataCiphers", () => everything({ dataCiphers: [] })],
  ["repeated cipher", "network.dataCiphers[1]", () => everything({ dataCiphers: ["AES-256-GCM", "AES-256-GCM"] })],
  ["proto udp6", "network.proto", () => everything({ proto: "udp6" })],
  ["port 0", "network.port", () => everything({ port: 0 })],
  ["port 65536", "network.port", () => everything({ port: 65536 })],
  ["port as a string", "network.port", () => everything({ port: "1194" })],
  ["fractional port", "network.port", () => everything({ port: 1194.5 })],
  ["keepalive timeout below twice the interval", "network.keepaliveTimeout", () => everything({ keepaliveTimeout: 3 })],
  ["keepalive interval 0", "network.keepaliveInterval", () => everything({ keepaliveInterval: 0 })],
  ["data subnet /30", "network.dataSubnet", () => everything({ dataSubnet: "10.100.100.0/30" })],
  ["data subnet /15", "network.dataSubnet", () => everything({ dataSubnet: "10.100.0.0/15" })],
  ["data subnet with host bits", "network.dataSubnet", () => everything({ dataSubnet: "10.100.100.1/24" })],
  [
    "backbone overlapping the data subnet",
    "network.backboneSubnet",
    () => everything({ backboneSubnet: "10.100.100.0/28" }),
  ],
  ["network route /0", "network.pushRoutes[0]", () => everything({ pushRoutes: ["0.0.0.0/0"] })],
  [
    "network route with a newline",
    "network.pushRoutes[0]",
    () => everything({ pushRoutes: ["10.0.0.0/8\nscript-security 3"] }),
  ],
  [
    "endpoint with a space and port",
    "switches[0].endpointHost",
    () => renderClientProfile(network, host, [{ ...swA, endpointHost: "vpn.example.com 443" }, swB], secrets),
  ],
  [
    "endpoint starting with -",
    "allSwitches[0].endpointHost",
    () => everything({}, { endpointHost: "-oProxyCommand=x" }),
  ],
  [
    "endpoint with a newline",
    "allSwitches[0].endpointHost",
    () => everything({}, { endpointHost: "vpn.example.com\nremote evil.example 1" }),
  ],
  [
    "endpoint that is a broken IPv4",
    "allSwitches[0].endpointHost",
    () => everything({}, { endpointHost: "999.1.1.1" }),
  ],
  ["endpoint IPv6 in brackets", "allSwitches[0].endpointHost", () => everything({}, { endpointHost: "[2001:db8::1]" })],
  [
    "endpoint with an underscore",
    "allSwitches[0].endpointHost",
    () => everything({}, { endpointHost: "vpn_a.example.com" }),
  ],
  ["endpoint port 0", "allSwitches[0].endpointPort", () => everything({}, { endpointPort: 0 })],
  ["switch id with a colon", "allSwitches[0].id", () => everything({}, { id: "a:b" })],
  ["switch id with a path", "allSwitches[0].id", () => everything({}, { id: "../b" })],
  [
    "switch address outside the subnet",
    "allSwitches[0].dataAddress",
    () => everything({}, { dataAddress: "10.100.101.1" }),
  ],
  [
    "switch address inside its pool",
    "allSwitches[0].dataAddress",
    () => everything({}, { dataAddress: "10.100.100.50" }),
  ],
  [
    "pool reversed",
    "allSwitches[0].poolEnd",
    () => everything({}, { poolStart: "10.100.100.90", poolEnd: "10.100.100.80" }),
  ],
  ["pools overlapping", "allSwitches[1].poolStart", () => everything({}, { poolEnd: "10.100.100.102" })],
  [
    "backbone address outside the backbone",
    "allSwitches[0].backboneAddress",
    () => everything({}, { backboneAddress: "10.200.201.1" }),
  ],
  [
    "backbone address shared",
    "allSwitches[1].backboneAddress",
    () => everything({}, { backboneAddress: "10.200.200.2" }),
  ],
  ["path with a space", "paths.ccdDir", () => everything({}, {}, {}, { ccdDir: "/var/lib/switch board/ccd" })],
  ["relative path", "paths.caCert", () => everything({}, {}, {}, { caCert: "ca.crt" })],
  ["path with ..", "paths.serverKey", () => everything({}, {}, {}, { serverKey: "/var/lib/../../etc/shadow" })],
  ["path with a newline", "paths.crl", () => everything({}, {}, {}, { crl: "/var/lib/crl.pem\nscript-security 3" })],
  ["path with a quote", "paths.hookCommand", () => everything({}, {}, {}, { hookCommand: '/usr/bin/hook" x' })],
  ["hook with an argument", "paths.hookCommand", () => everything({}, {}, {}, { hookCommand: "/bin/sh -c reboot" })],
  [
    "socket path longer than sun_path",
    "paths.managementSocket",
    () => everything({}, {}, {}, { managementSocket: `/${"s".repeat(120)}` }),
  ],
  [
    "CA closing its tag",
    "secrets.caPem",
    () => everything({}, {}, {}, {}, { caPem: `${fakePem("CERTIFICATE", "x")}</ca>\nscript-security 3\n<ca>\n` }),
  ],
  [
    "CA with two blocks",
    "secrets.caPem",
    () => everything({}, {}, {}, {}, { caPem: fakePem("CERTIFICATE", "x") + fakePem("CERTIFICATE", "y") }),
  ],
  [
    "CA with text after the block",
    "secrets.caPem",
    () => everything({}, {}, {}, {}, { caPem: `${fakePem("CERTIFICATE", "x")}junk\n` }),
  ],
  [
    "CA with CRLF line ends",
    "secrets.caPem",
    () => everything({}, {}, {}, {}, { caPem: fakePem("CERTIFICATE", "x").replaceAll("\n", "\r\n") }),
  ],
  ["CA that is a key", "secrets.caPem", () => everything({}, {}, {}, {}, { caPem: fakePem("PRIVATE KEY", "x") })],
  [
    "certificate with PEM headers",
    "secrets.certPem",
    () =>
      everything({}, {}, {}, {}, { certPem: fakePem("CERTIFICATE", "x").replace("\n", "\nProc-Type: 4,ENCRYPTED\n") }),
  ],
  [
    "certificate with a tag inside",
    "secrets.certPem",
    () =>
      everything({}, {}, {}, {}, { certPem: fakePem("CERTIFICATE", "x").replace(PEM_TAIL, `</cert>\n${PEM_TAIL}`) }),
  ],
  [
    "encrypted key",
    "secrets.keyPem",
    () => everything({}, {}, {}, {}, { keyPem: fakePem("ENCRYPTED PRIVATE KEY", "x") }),
  ],
  [
    "key with mismatched END",
    "secrets.keyPem",
    () => everything({}, {}, {}, {}, { keyPem: fakePem("PRIVATE KEY", "x").replace("END PRIVATE", "END EC PRIVATE") }),
  ],
  [
    "tls-crypt key with a short line",
    "secrets.tlsCryptKey",
    () => everything({}, {}, {}, {}, { tlsCryptKey: fakeTlsCryptKey(1).replace(/\n[0-9a-f]{32}\n/, "\nabc\n") }),
  ],
  [
    "tls-crypt key with a closing tag comment",
    "secrets.tlsCryptKey",
    () => everything({}, {}, {}, {}, { tlsCryptKey: `#</tls-crypt>\n${fakeTlsCryptKey(1)}` }),
  ],
  [
    "tls-crypt key that is a certificate",
    "secrets.tlsCryptKey",
    () => everything({}, {}, {}, {}, { tlsCryptKey: fakePem("CERTIFICATE", "x") }),
  ],
];

describe("hostile input is refused with a RenderError naming the field", () => {
  it.each(cases)("%s (%s)", (_what, field, run) => {
    expect(refusal(run).field).toBe(field);
  });

  it("refuses a profile when no switch is enabled", () => {
    const off = switches.map((sw) => ({ ...sw, enabled: false }));
    expect(refusal(() => renderClientProfile(network, host, off, secrets)).field).toBe("switches");
  });

  it("refuses a server config for a switch that is not in allSwitches", () => {
    expect(refusal(() => renderSwitchServerConfig(network, swA, [swB], paths)).field).toBe("switch.id");
  });

  it("refuses a backbone link from a switch to itself", () => {
    expect(refusal(() => renderBackboneLinkConfigs(network, swA, swA, paths)).field).toBe("link[1].id");
  });
});

const NASTY = ["\n", "\r", '"', "'", "\\", "\u0000", "<", ">", " ", "\t", "#", ";", "\u2028", "\u0085"];

/** Every string that reaches a config, by where it sits in the inputs. */
const renderedFields: ReadonlyArray<readonly [string, (bad: (ok: string) => string) => () => unknown]> = [
  ["host.commonName", (bad) => () => everything({}, {}, { commonName: bad("web-1") })],
  ["host.address", (bad) => () => everything({}, {}, { address: bad("10.100.100.210") })],
  ["host.subnets[0]", (bad) => () => everything({}, {}, { subnets: [bad("192.168.10.0/24")] })],
  ["host.pushRoutes[0]", (bad) => () => everything({}, {}, { pushRoutes: [bad("172.16.0.0/16")] })],
  ["network.dataSubnet", (bad) => () => everything({ dataSubnet: bad("10.100.100.0/24") })],
  ["network.backboneSubnet", (bad) => () => everything({ backboneSubnet: bad("10.200.200.0/24") })],
  ["network.pushRoutes[0]", (bad) => () => everything({ pushRoutes: [bad("192.168.10.0/24")] })],
  ["network.dnsServers[0]", (bad) => () => everything({ dnsServers: [bad("10.100.100.250")] })],
  ["network.dnsDomain", (bad) => () => everything({ dnsDomain: bad("office.example") })],
  ["network.dataCiphers[0]", (bad) => () => everything({ dataCiphers: [bad("AES-256-GCM")] })],
  ["switch.id", (bad) => () => everything({}, { id: bad("sw-a") })],
  ["switch.endpointHost", (bad) => () => everything({}, { endpointHost: bad("vpn-a.example.net") })],
  ["switch.dataAddress", (bad) => () => everything({}, { dataAddress: bad("10.100.100.1") })],
  ["switch.poolStart", (bad) => () => everything({}, { poolStart: bad("10.100.100.2") })],
  ["switch.poolEnd", (bad) => () => everything({}, { poolEnd: bad("10.100.100.100") })],
  ["switch.backboneAddress", (bad) => () => everything({}, { backboneAddress: bad("10.200.200.1") })],
  // serverConfig is where the agent writes the file; no config refers to it.
  ...(Object.keys(paths) as (keyof RenderPaths)[])
    .filter((key) => key !== "serverConfig")
    .map(
      (key) =>
        [
          `paths.${key}`,
          (bad: (ok: string) => string) => () => everything({}, {}, {}, { [key]: bad(paths[key]) }),
        ] as const,
    ),
  ["secrets.caPem", (bad) => () => everything({}, {}, {}, {}, { caPem: bad(secrets.caPem) })],
  ["secrets.certPem", (bad) => () => everything({}, {}, {}, {}, { certPem: bad(secrets.certPem ?? "") })],
  ["secrets.keyPem", (bad) => () => everything({}, {}, {}, {}, { keyPem: bad(secrets.keyPem ?? "") })],
  ["secrets.tlsCryptKey", (bad) => () => everything({}, {}, {}, {}, { tlsCryptKey: bad(secrets.tlsCryptKey ?? "") })],
];

describe("no special character reaches a config through any rendered field", () => {
  const placements: ReadonlyArray<readonly [string, (ok: string, char: string) => string]> = [
    ["prefix", (ok, char) => `${char}${ok}`],
    ["middle", (ok, char) => `${ok.slice(0, ok.length >> 1)}${char}${ok.slice(ok.length >> 1)}`],
    ["suffix", (ok, char) => `${ok}${char}`],
  ];
  for (const [field, make] of renderedFields) {
    it(`${field}: every special character in every position is refused`, () => {
      for (const char of NASTY) {
        for (const [where, place] of placements) {
          const bad = (ok: string) => place(ok, char);
          const attempt = make(bad);
          // Part of the grammar, not an escape: a newline inside or after a PEM only splits or ends
          // base64 lines, and `#` lines before a static key are comments that are dropped.
          if (field.startsWith("secrets.") && char === "\n" && where !== "prefix") continue;
          if (field === "secrets.tlsCryptKey" && char === "#" && where === "prefix") continue;
          expect(() => attempt(), `${JSON.stringify(char)} as ${where}`).toThrow(RenderError);
        }
      }
    });
  }

  it("names are never written into a config, so any text there is harmless", () => {
    const n = { ...network, name: 'evil\n"name<' };
    const a = { ...swA, name: "x\ny</ca>" };
    const outputs = [
      renderSwitchServerConfig(n, a, [a, swB], paths),
      renderClientConfigFile(n, host, [a, swB]) ?? "",
      renderBackboneLinkConfigs(n, a, swB, paths).a.config,
      renderClientProfile(n, host, [a, swB], secrets),
    ];
    for (const text of outputs) expect(text).not.toMatch(/evil|<\/ca>\n[^<]|x\ny/);
  });
});

describe("the config writer refuses unsafe tokens even if a validator were skipped", () => {
  it.each(["a b", "a\nb", 'a"b', "a\\b", "-a", "a#b", "a;b", "<ca>", "", "a\u0000b"])("refuses %j", (bad) => {
    expect(() => new ConfigWriter().directive("remote", bad)).toThrow(RenderError);
    expect(() => new ConfigWriter().push("route", bad)).toThrow(RenderError);
  });

  it("refuses inline bodies that could close the block", () => {
    expect(() => new ConfigWriter().inline("ca", "abc\n</ca>")).toThrow(RenderError);
    expect(() => new ConfigWriter().inline("script", "abc")).toThrow(RenderError);
  });
});

describe("every rendered line has one of the shapes OpenVPN reads", () => {
  const LINE =
    /^(?:# [A-Za-z0-9 _.:;/@+=,()'-]*|[a-z][a-z0-9-]*(?: [A-Za-z0-9_.:/@+=,][A-Za-z0-9_.:/@+=,-]*)*|push(?:-remove)? "[a-z][a-z0-9-]*(?: [A-Za-z0-9_.:/@+=,-]+)*"|<\/?(?:ca|cert|key|tls-crypt)>|[A-Za-z0-9+/= -]+)$/;
  it("holds for all outputs of the fixture", () => {
    const outputs = [
      renderSwitchServerConfig(network, swA, switches, paths),
      ...hosts.flatMap((h) => renderClientConfigFile(network, h, switches) ?? []),
      renderBackboneLinkConfigs(network, swA, swB, paths).b.config,
      renderClientProfile(network, host, switches, secrets),
    ];
    for (const text of outputs) {
      expect(text.endsWith("\n")).toBe(true);
      for (const line of text.slice(0, -1).split("\n")) expect(line).toMatch(LINE);
    }
  });
});
