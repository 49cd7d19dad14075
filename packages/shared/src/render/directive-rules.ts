import { parseIpv4 } from "../net/ipv4.ts";
import type { RenderPaths } from "./model.ts";
import { backboneLinkPaths } from "./paths.ts";
import * as v from "./validate.ts";

/**
 * The allow-list of what a switch's server and backbone configs may say: every directive the
 * renderers in this folder emit, with the arguments they give it, and nothing else. The
 * renderers write through a ConfigWriter bound to these tables (it refuses a directive they do
 * not list), and the agent checks every config it receives against them before writing it
 * (config-check.ts), so a compromised API cannot make a switch run a program (`up`, `plugin`,
 * `*-script`, a second hook), read another config (`config`), write a file elsewhere (`status`,
 * `log`, `writepid` with another path) or keep OpenVPN running as root (no `user`/`group`).
 * Paths must be exactly the ones of the switch's own folder (render/paths.ts).
 */

/** The unprivileged account OpenVPN switches to once it has read its keys and opened its device. */
export const OPENVPN_USER = "nobody";
/** Debian's group for nobody (Debian's packaged OpenVPN examples use the same pair). */
export const OPENVPN_GROUP = "nogroup";

/** The only local user whose connections the management sockets accept: the agent's. */
export const MANAGEMENT_USER = "root";

/** id-kp-serverAuth, in the OID form `remote-cert-eku` takes without quoting. */
export const SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1";

/** What a config's arguments are checked against: the folder it must name and what it belongs to. */
export interface RuleContext {
  /** The switch's files, as switchPaths(<its folder>) gives them. */
  readonly paths: RenderPaths;
  /** The network tag in device names (naming.ts). */
  readonly networkTag: string;
  /** For a backbone end: the peer's offset, which numbers its device, port and socket. */
  readonly peerOffset?: number;
}

export interface ArgRule {
  /** What the argument must be, for the refusal message. */
  readonly what: (ctx: RuleContext) => string;
  readonly test: (value: string, ctx: RuleContext) => boolean;
}

/** Alternatives: the arguments must match one of the lists exactly (same count, each rule). */
export type DirectiveRule = readonly (readonly ArgRule[])[];
export type DirectiveRules = Readonly<Record<string, DirectiveRule>>;

const DECIMAL = /^(?:0|[1-9][0-9]{0,8})$/;

function word(...values: string[]): ArgRule {
  return { what: () => values.map((value) => `'${value}'`).join(" or "), test: (value) => values.includes(value) };
}

function integer(min: number, max: number): ArgRule {
  return {
    what: () => `an integer from ${min} to ${max}`,
    test: (value) => DECIMAL.test(value) && Number(value) >= min && Number(value) <= max,
  };
}

const port = integer(1, 65535);

const ipv4: ArgRule = { what: () => "an IPv4 address", test: (value) => parseIpv4(value) !== undefined };

const netmask: ArgRule = {
  what: () => "a netmask",
  test: (value) => {
    const mask = parseIpv4(value);
    // Contiguous ones: inverting gives 2^n - 1.
    return mask !== undefined && ((~mask >>> 0) & ((~mask >>> 0) + 1)) === 0;
  },
};

function file(key: Exclude<keyof RenderPaths, "baseDir">): ArgRule {
  return {
    what: (ctx) => `the switch's ${key} path ${ctx.paths[key]}`,
    test: (value, ctx) => value === ctx.paths[key],
  };
}

function linkFiles(ctx: RuleContext) {
  return ctx.peerOffset === undefined ? undefined : backboneLinkPaths(ctx.paths, ctx.peerOffset);
}

const linkSocket: ArgRule = {
  what: (ctx) => `this link's management socket ${linkFiles(ctx)?.managementSocket ?? "(no peer offset)"}`,
  test: (value, ctx) => value === linkFiles(ctx)?.managementSocket,
};

const serverDevice: ArgRule = {
  what: (ctx) => `the server device sbs-${ctx.networkTag}`,
  test: (value, ctx) => value === `sbs-${ctx.networkTag}`,
};

const linkDevice: ArgRule = {
  what: (ctx) => `this link's device sbb-${ctx.networkTag}-${ctx.peerOffset ?? "?"}`,
  test: (value, ctx) => ctx.peerOffset !== undefined && value === `sbb-${ctx.networkTag}-${ctx.peerOffset}`,
};

const ciphers: ArgRule = {
  what: () => "a colon-separated list of AEAD ciphers",
  test: (value) => {
    try {
      return v.cipherList("data-ciphers", value.split(":")).join(":") === value;
    } catch {
      return false;
    }
  },
};

const remoteHost: ArgRule = {
  what: () => "a host name or IP address",
  test: (value) => {
    try {
      return v.remoteHost("remote", value) === value;
    } catch {
      return false;
    }
  },
};

const backboneName: ArgRule = {
  what: () => "a backbone certificate name (backbone.<switch id>)",
  test: (value) => value.startsWith("backbone.") && v.SWITCH_ID_PATTERN.test(value.slice("backbone.".length)),
};

const dnsDomain: ArgRule = {
  what: () => "a DNS domain",
  test: (value) => {
    try {
      return v.dnsDomain("domain", value) === value;
    } catch {
      return false;
    }
  },
};

const none: DirectiveRule = [[]];
const keepalive: DirectiveRule = [[integer(1, 3600), integer(2, 86400)]];
const dropPrivileges = { user: [[word(OPENVPN_USER)]], group: [[word(OPENVPN_GROUP)]] } as const;
// OpenVPN makes its management socket world-writable (it binds with umask 0): any local user
// could drive it. Only root's connections (the agent's) are accepted, by peer credentials.
const managementClient = { "management-client-user": [[word(MANAGEMENT_USER)]] } as const;

/** The options a server pushes to its clients (the quoted text of `push "..."`). */
export const PUSH_RULES: DirectiveRules = {
  topology: [[word("subnet")]],
  "route-gateway": [[ipv4]],
  route: [[ipv4, netmask]],
  "dhcp-option": [
    [word("DNS"), ipv4],
    [word("DOMAIN"), dnsDomain],
  ],
};

/** A switch's data server (server-config.ts). `push` lines are checked against PUSH_RULES. */
export const SERVER_RULES: DirectiveRules = {
  mode: [[word("server")]],
  "tls-server": none,
  dev: [[serverDevice]],
  "dev-type": [[word("tun")]],
  topology: [[word("subnet")]],
  proto: [[word("udp", "tcp-server")]],
  port: [[port]],
  ifconfig: [[ipv4, netmask]],
  "ifconfig-pool": [[ipv4, ipv4, netmask]],
  push: [],
  "client-config-dir": [[file("ccdDir")]],
  "ccd-exclusive": none,
  ca: [[file("caCert")]],
  cert: [[file("serverCert")]],
  key: [[file("serverKey")]],
  dh: [[word("none")]],
  "tls-crypt": [[file("tlsCryptKey")]],
  "remote-cert-tls": [[word("client")]],
  "crl-verify": [[file("crl")]],
  "data-ciphers": [[ciphers]],
  "allow-compression": [[word("no")]],
  keepalive,
  "explicit-exit-notify": [[word("2")]],
  // Level 2 is what the hook needs; 3 would pass passwords to scripts in the environment.
  "script-security": [[word("2")]],
  // The one program the server may run: the agent's own hook, at the path it installs it.
  "client-connect": [[file("hookCommand")]],
  "client-disconnect": [[file("hookCommand")]],
  management: [[file("managementSocket"), word("unix")]],
  ...managementClient,
  "persist-key": none,
  "persist-tun": none,
  status: [[file("statusFile"), word("10")]],
  "status-version": [[word("3")]],
  verb: [[word("3")]],
  ...dropPrivileges,
};

/** One end of a backbone link (backbone-config.ts). */
export const BACKBONE_RULES: DirectiveRules = {
  dev: [[linkDevice]],
  "dev-type": [[word("tun")]],
  proto: [[word("udp", "tcp-server", "tcp-client")]],
  lport: [[port]],
  remote: [[remoteHost, port]],
  float: none,
  nobind: none,
  "connect-retry": [[word("1"), word("5")]],
  ifconfig: [[ipv4, ipv4]],
  "tls-server": none,
  "tls-client": none,
  dh: [[word("none")]],
  ca: [[file("caCert")]],
  cert: [[file("backboneCert")]],
  key: [[file("backboneKey")]],
  "remote-cert-eku": [[word(SERVER_AUTH_OID)]],
  "remote-cert-tls": [[word("server")]],
  "verify-x509-name": [[backboneName, word("name")]],
  "tls-crypt": [[file("backboneTlsCryptKey")]],
  "crl-verify": [[file("crl")]],
  "data-ciphers": [[ciphers]],
  "allow-compression": [[word("no")]],
  keepalive,
  "explicit-exit-notify": [[word("1")]],
  "persist-key": none,
  "persist-tun": none,
  management: [[linkSocket, word("unix")]],
  ...managementClient,
  verb: [[word("3")]],
  ...dropPrivileges,
};

/** Directives a config must have: without them OpenVPN keeps root, or lets any local user drive it. */
export const REQUIRED_DIRECTIVES: readonly string[] = [
  "user",
  "group",
  "persist-key",
  "persist-tun",
  "management-client-user",
];
