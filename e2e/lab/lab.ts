import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentStatus, DEFAULT_AGENT_DIR, type Host, type SessionRecord, type Switch } from "@switchboard/shared";
import { missing, OPENVPN } from "@switchboard/testkit/env";
import { pinnedRequest } from "@switchboard/testkit/pinned-https";
import { createFirstAdmin } from "@switchboard/testkit/server-process";
import { parseIpRouteJson } from "../../apps/agent/src/routes/kernel-routes.ts";

export { OPENVPN };

import { sleep, waitFor } from "@switchboard/testkit/wait";
import { LabApi } from "./api.ts";
import {
  closeState,
  LAB_ROOT,
  type LabHostState,
  type LabState,
  type LabSwitchState,
  loadState,
  saveState,
} from "./state.ts";
import { alive, assertMaySpawn, inNetns, ip, netnsExists, pidsInNetns, run, spawnInNetns, stopPid } from "./system.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const API_MAIN = join(REPO, "apps/api/src/main.ts");
const AGENT_MAIN = join(REPO, "apps/agent/src/main.ts");
const FORWARD = fileURLToPath(new URL("./forward.ts", import.meta.url));
const NODE = [process.execPath, "--import", "tsx"];

/**
 * The lab's internet: a router namespace with one network per node, 198.18.N.0/24 (the range
 * RFC 2544 sets aside for benchmarks), the node at .2 behind the router's .1 — every switch and
 * host sits at its own "provider" and reaches the others through a routed hop. It exists only
 * inside the lab. The network's data and backbone subnets live only in the tunnels.
 */
const uplinkOf = (n: number) => `198.18.${n}.2`;
const gatewayOf = (n: number) => `198.18.${n}.1`;
const CONTROL_NET = 1;
const SWITCH_NET_BASE = 10;
const HOST_NET_BASE = 100;
const API_ADDRESS = uplinkOf(CONTROL_NET);
const API_PORT = 8080;
export const DATA_SUBNET = "10.77.0.0/24";
/**
 * With registered hosts the data subnet is a /20, and they take 10.77.4.1 onwards (explicit
 * addresses), so the real hosts' addresses and the ones scenarios move them to (10.77.0.200)
 * stay what they are at the default size.
 */
const LARGE_DATA_SUBNET = "10.77.0.0/20";
const REGISTERED_FIRST = 4 * 256 + 1;
/** 10.77.4.1 .. 10.77.15.254 */
export const MAX_REGISTERED_HOSTS = 15 * 256 + 254 - REGISTERED_FIRST + 1;
const registeredAddress = (i: number) => {
  const n = REGISTERED_FIRST + i;
  return `10.77.${n >> 8}.${n & 255}`;
};
export const BACKBONE_SUBNET = "10.78.0.0/24";
const READY = "Initialization Sequence Completed";

export interface LabOptions {
  switches: number;
  hosts: number;
  /** Port for the console on 127.0.0.1 in the machine's own namespace; 0: any free port. */
  consolePort: number;
  /** PostgreSQL for the API instead of its embedded database; must be reachable from inside a namespace. */
  databaseUrl?: string;
  /**
   * Hosts registered through the API (one bulk import) but never connected, before the real
   * hosts connect: the network's size without as many clients. 0 (the default) keeps the
   * default lab exactly as it is, /24 data subnet included.
   */
  registeredHosts?: number;
  log?: (line: string) => void;
  /**
   * Called with the lab's state as soon as it exists, before anything is built: a runner keeps
   * it to take the lab down should it be interrupted while the lab is still being built.
   */
  onState?: (state: LabState) => void;
}

/**
 * Why the lab cannot run on this machine, or undefined. It installs nothing itself. Root,
 * OpenVPN 2.6 and `ip netns` as the agent's OpenVPN tests need them; then what only the lab uses.
 */
export function labMissing(): string | undefined {
  const reason = missing("root", "openvpn", "openssl", "netns");
  if (reason) return reason;
  for (const [name, argv] of [
    ["util-linux unshare", ["unshare", "--version"]],
    ["iputils-ping", ["ping", "-V"]],
  ] as const) {
    try {
      run(argv[0], argv.slice(1));
    } catch {
      return `missing: ${name}`;
    }
  }
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun";
  return undefined;
}

export class Lab {
  private constructor(readonly state: LabState) {}

  /** The REST API as the lab's admin token, through the console forwarder. */
  get api(): LabApi {
    return new LabApi(this.state.consoleUrl?.replace(/\/$/, "") ?? "", this.state.token ?? "", this.apiCertificate());
  }

  /** Builds the internet, starts the API, creates the network, its switches and hosts, and connects them. */
  static async up(options: LabOptions): Promise<Lab> {
    const missing = labMissing();
    if (missing) throw new Error(`the lab cannot run here: ${missing}`);
    const log = options.log ?? (() => {});
    const id = randomBytes(3).toString("hex");
    const prefix = `sbl-${id}`;
    const state: LabState = {
      id,
      dir: join(LAB_ROOT, id),
      createdAt: new Date().toISOString(),
      internetNs: `${prefix}-net`,
      controlNs: `${prefix}-ctl`,
      apiAddress: API_ADDRESS,
      namespaces: [],
      pids: {},
      madeMountPoint: false,
      switches: [],
      hosts: [],
    };
    saveState(state);
    options.onState?.(state);
    const lab = new Lab(state);
    try {
      lab.buildInternet();
      log(`internet: router ${state.internetNs}, one 198.18.N.0/24 per node`);
      await lab.startApi(options);
      log(`API in ${state.controlNs} at https://${API_ADDRESS}:${API_PORT}, console ${state.consoleUrl}`);
      const registered = options.registeredHosts ?? 0;
      if (registered > MAX_REGISTERED_HOSTS) throw new Error(`at most ${MAX_REGISTERED_HOSTS} registered hosts`);
      await lab.createNetwork(registered > 0 ? LARGE_DATA_SUBNET : DATA_SUBNET);
      for (let i = 0; i < options.switches; i++) {
        const sw = await lab.addSwitch(String.fromCharCode(97 + i));
        log(`switch ${sw.name}: ${sw.netns} ${sw.uplink}, agent pid ${sw.agentPid}`);
      }
      await lab.waitBackbone();
      for (let j = 1; j <= options.hosts; j++) await lab.addHost(`host${j}`);
      if (registered > 0) {
        const started = Date.now();
        await lab.registerHosts(registered);
        log(`registered ${registered} offline hosts (one import) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      // A network of thousands of hosts takes the agents longer to apply the first time.
      await lab.waitApplied(30_000 + registered * 60);
      await Promise.all(
        lab.state.hosts.map(async (host, j) => {
          const first = lab.state.switches[j % lab.state.switches.length];
          await lab.startHost(host, first);
          log(`host ${host.name}: ${host.netns} ${host.dataAddress}, tries switch ${first?.name} first`);
        }),
      );
      return lab;
    } catch (error) {
      log(`lab up failed: ${error instanceof Error ? error.message : String(error)}; logs in ${state.dir}`);
      await downLab(state, { keepLogs: true });
      throw error;
    }
  }

  static open(dir: string): Lab {
    const state = loadState(dir);
    if (!state) throw new Error(`no lab in ${dir}`);
    return new Lab(state);
  }

  private save(): void {
    saveState(this.state);
  }

  // --- the internet ------------------------------------------------------------------------

  private addNamespace(name: string): void {
    assertMaySpawn(`namespace ${name}`);
    ip(["netns", "add", name]);
    this.state.namespaces.push(name);
    this.save();
    ip(["link", "set", "lo", "up"], name);
  }

  private buildInternet(): void {
    this.addNamespace(this.state.internetNs);
    // The router forwards between the nodes' networks; nothing else runs there.
    run("ip", ["netns", "exec", this.state.internetNs, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    this.attach(this.state.controlNs, "ctl", CONTROL_NET);
  }

  /** A node: its own namespace, eth0 on network `net` behind the router; `port` is the router's end. */
  private attach(netns: string, port: string, net: number): void {
    this.addNamespace(netns);
    ip(["link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", this.state.internetNs], netns);
    ip(["addr", "add", `${gatewayOf(net)}/24`, "dev", port], this.state.internetNs);
    ip(["link", "set", port, "up"], this.state.internetNs);
    ip(["addr", "add", `${uplinkOf(net)}/24`, "dev", "eth0"], netns);
    ip(["link", "set", "eth0", "up"], netns);
    ip(["route", "add", "default", "via", gatewayOf(net)], netns);
  }

  /** Cuts (or restores) a node's uplink at the router, like an outage at its provider. */
  setUplink(port: string, up: boolean): void {
    ip(["link", "set", port, up ? "up" : "down"], this.state.internetNs);
  }

  // --- the API ---------------------------------------------------------------------------------

  private apiLog(): string {
    return join(this.state.dir, "api.log");
  }

  private async startApi(options: LabOptions): Promise<void> {
    const state = this.state;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: API_ADDRESS,
      PORT: String(API_PORT),
      DATA_DIR: join(state.dir, "api-data"),
      LOG_LEVEL: "warn",
      WEB_DIR: join(REPO, "apps/web/dist"),
    };
    if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
    else delete env.DATABASE_URL;
    await this.launchApi(env);
    const socket = join(state.dir, "api.sock");
    state.pids.forwardInside = spawnInNetns(
      state.controlNs,
      [...NODE, FORWARD, `unix:${socket}`, `tcp:${API_ADDRESS}:${API_PORT}`],
      join(state.dir, "forward.log"),
      process.env,
      REPO,
    );
    this.save();
    const portFile = join(state.dir, "console.port");
    state.pids.forwardOutside = spawnDetached(
      [...NODE, FORWARD, `tcp:127.0.0.1:${options.consolePort}`, `unix:${socket}`, portFile],
      join(state.dir, "forward.log"),
    );
    this.save();
    const port = await waitFor(
      "the console port",
      () => existsSync(portFile) && readFileSync(portFile, "utf8"),
      20_000,
    );
    // The API listens on a non-loopback address, so it serves HTTPS with the self-signed
    // certificate it made in its data folder: the lab trusts exactly that one, as agents pin it.
    const consoleUrl = `https://127.0.0.1:${port}/`;
    const ca = this.apiCertificate();
    await waitFor(
      "the API through the forwarders",
      async () =>
        (await pinnedRequest(`${consoleUrl}readyz`, { ca, timeoutMs: 5000 }).catch(() => undefined))?.status === 200,
      20_000,
      100,
    );
    const setupToken = /setup#token=(\S+)/.exec(readFileSync(this.apiLog(), "utf8"))?.[1];
    if (!setupToken) throw new Error("the API printed no setup link: give the lab an empty database");
    const admin = { username: "admin", password: randomBytes(12).toString("base64url") };
    state.token = await createFirstAdmin(consoleUrl.slice(0, -1), setupToken, admin, "lab", ca);
    state.admin = admin;
    state.consoleUrl = consoleUrl;
    this.save();
  }

  /** The API's own certificate (self-signed, in its data folder), once it has started. */
  apiCertificate(): string | undefined {
    const path = join(this.state.dir, "api-data", "tls-cert.pem");
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  }

  /** The SHA-256 fingerprint the API printed at start: what an operator gives `enroll --fingerprint`. */
  private apiFingerprint(): string {
    const printed = /SHA-256 fingerprint ([0-9A-F:]{95})/.exec(readFileSync(this.apiLog(), "utf8"))?.[1];
    if (!printed) throw new Error(`the API printed no certificate fingerprint: ${tail(this.apiLog())}`);
    return printed;
  }

  /** Starts the API process in the control namespace (again, after stopApi: same database). */
  async launchApi(env?: NodeJS.ProcessEnv): Promise<void> {
    const state = this.state;
    const saved = join(state.dir, "api.env.json");
    if (env) writeFileSync(saved, JSON.stringify(env), { mode: 0o600 });
    const apiEnv = env ?? (JSON.parse(readFileSync(saved, "utf8")) as NodeJS.ProcessEnv);
    const from = existsSync(this.apiLog()) ? statSync(this.apiLog()).size : 0;
    state.pids.api = spawnInNetns(state.controlNs, [...NODE, API_MAIN], this.apiLog(), apiEnv, REPO);
    this.save();
    const pid = state.pids.api;
    await waitFor(
      "the API to start",
      () => {
        if (!alive(pid)) throw new Error(`the API exited: ${tail(this.apiLog())}`);
        return readFileSync(this.apiLog(), "utf8").slice(from).includes("Switchboard is up");
      },
      60_000,
      100,
    );
  }

  async stopApi(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const pid = this.state.pids.api;
    if (pid !== undefined) await stopPid(pid, signal, 15_000);
    delete this.state.pids.api;
    this.save();
  }

  private async createNetwork(dataSubnet: string): Promise<void> {
    const network = await this.api.post<{ id: string }>("/api/networks", {
      name: "lab",
      description: "Switchboard lab: every switch and host is a network namespace on this machine",
      dataSubnet,
      backboneSubnet: BACKBONE_SUBNET,
    });
    this.state.networkId = network.id;
    this.save();
  }

  // --- switches ------------------------------------------------------------------------------

  switch(name: string): LabSwitchState {
    const sw = this.state.switches.find((s) => s.name === name);
    if (!sw) throw new Error(`no switch ${name}`);
    return sw;
  }

  host(name: string): LabHostState {
    const host = this.state.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no host ${name}`);
    return host;
  }

  /** A new switch through the REST API, its namespace, enrollment and agent in managed mode. */
  async addSwitch(name: string): Promise<LabSwitchState> {
    const index = this.state.switches.length;
    const net = SWITCH_NET_BASE + index;
    const uplink = uplinkOf(net);
    const created = await this.api.post<Switch>("/api/switches", {
      networkId: this.state.networkId,
      name,
      endpointHost: uplink,
    });
    const sw: LabSwitchState = {
      name,
      id: created.id,
      netns: `sbl-${this.state.id}-sw-${name}`,
      uplink,
      agentDir: join(this.state.dir, `switch-${name}`),
    };
    this.state.switches.push(sw);
    mkdirSync(sw.agentDir, { recursive: true, mode: 0o700 });
    this.attach(sw.netns, `sw-${name}`, net);
    if (!existsSync(DEFAULT_AGENT_DIR)) {
      mkdirSync(DEFAULT_AGENT_DIR, { recursive: true, mode: 0o700 });
      this.state.madeMountPoint = true;
    }
    this.save();
    const { token } = await this.api.post<{ token: string }>(`/api/switches/${sw.id}/enrollment`);
    const enrolled = await inNetns(
      sw.netns,
      "unshare",
      this.onOwnDisk(sw, [
        ...NODE,
        AGENT_MAIN,
        "enroll",
        "--api",
        `https://${API_ADDRESS}:${API_PORT}`,
        "--token",
        token,
        "--fingerprint",
        this.apiFingerprint(),
      ]),
      60_000,
    );
    if (enrolled.code !== 0) throw new Error(`enrolling switch ${name} failed: ${enrolled.stderr}`);
    await this.startAgent(sw);
    return sw;
  }

  /**
   * The agent sees sw.agentDir as /var/lib/switchboard-agent (its own mount namespace), the
   * way every switch has its own disk: the paths the API puts in configs are the real ones.
   */
  private onOwnDisk(sw: LabSwitchState, argv: readonly string[]): string[] {
    return [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount --bind "$0" "$1" && shift && exec "$@"',
      sw.agentDir,
      DEFAULT_AGENT_DIR,
      ...argv,
    ];
  }

  agentLog(sw: LabSwitchState): string {
    return join(this.state.dir, `agent-${sw.name}.log`);
  }

  async startAgent(sw: LabSwitchState): Promise<void> {
    const argv = ["unshare", ...this.onOwnDisk(sw, [...NODE, AGENT_MAIN, "run", "--managed", "--openvpn", OPENVPN])];
    sw.agentPid = spawnInNetns(sw.netns, argv, this.agentLog(sw), process.env, REPO);
    this.save();
  }

  /** Stops a switch's agent; in managed mode its OpenVPN processes stop with it unless SIGKILLed. */
  async stopAgent(sw: LabSwitchState, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (sw.agentPid !== undefined) await stopPid(sw.agentPid, signal, 10_000);
    sw.agentPid = undefined;
    this.save();
  }

  /** The pids of the OpenVPN processes the agent of `sw` runs (its data server and links). */
  openvpnPids(sw: LabSwitchState): number[] {
    return pidsInNetns(sw.netns).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "openvpn";
      } catch {
        return false;
      }
    });
  }

  /** Waits until every pair of switches has its backbone link up (each side pings the other). */
  async waitBackbone(timeoutMs = 60_000): Promise<void> {
    const backbone = new Map<string, string>();
    for (const sw of await this.api
      .get<Switch[] | { items: Switch[] }>(`/api/switches?networkId=${this.state.networkId}`)
      .then(itemsOf)) {
      backbone.set(sw.id, sw.backboneAddress);
    }
    const pairs = this.state.switches.flatMap((a) =>
      this.state.switches.filter((b) => b !== a).map((b) => [a, backbone.get(b.id) ?? ""] as const),
    );
    await Promise.all(
      pairs.map(([from, to]) =>
        waitFor(
          `backbone ${from.name} -> ${to}`,
          async () => (await inNetns(from.netns, "ping", ["-c1", "-W1", to])).code === 0,
          timeoutMs,
          200,
        ),
      ),
    );
  }

  /** Waits until the API sees the switch's agent online with its OpenVPN server answering. */
  async waitOnline(sw: LabSwitchState, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `switch ${sw.name}'s agent online`,
      async () => (await this.api.get<AgentStatus>(`/api/switches/${sw.id}/status`)).online,
      timeoutMs,
      100,
    );
    await waitFor(`switch ${sw.name}'s OpenVPN`, () => this.openvpnPids(sw).length > 0, timeoutMs, 100);
  }

  /** Waits until every running agent has applied the network's current revision. */
  async waitApplied(timeoutMs = 30_000): Promise<void> {
    const { revision } = await this.api.get<{ revision: number }>(`/api/networks/${this.state.networkId}`);
    await Promise.all(
      this.state.switches
        .filter((sw) => sw.agentPid !== undefined)
        .map((sw) =>
          waitFor(
            `switch ${sw.name} to apply revision ${revision}`,
            async () => {
              const status = await this.api.get<AgentStatus>(`/api/switches/${sw.id}/status`);
              return (status.revisionApplied ?? -1) >= revision;
            },
            timeoutMs,
            50,
          ),
        ),
    );
  }

  /** Routes the agent of `sw` owns in its kernel (protocol switchboard = 180): destination -> via. */
  kernelRoutes(sw: LabSwitchState): Map<string, string> {
    const routes = parseIpRouteJson(ip(["-json", "route", "show", "table", "main"], sw.netns));
    return new Map(routes.filter((route) => route.owned).map((route) => [route.destination, route.via ?? ""]));
  }

  // --- hosts ---------------------------------------------------------------------------------

  /** `count` hosts through the bulk import, each with its own address from 10.77.4.1 on; none connects. */
  async registerHosts(count: number): Promise<void> {
    const hosts = Array.from({ length: count }, (_, i) => ({
      commonName: `offline-${String(i).padStart(5, "0")}`,
      address: registeredAddress(i),
      tags: ["offline", `rack-${i % 20}`],
    }));
    const imported = await this.api.post<{ created: number }>("/api/hosts/import", {
      networkId: this.state.networkId,
      hosts,
    });
    if (imported.created !== count) throw new Error(`the import created ${imported.created} hosts, not ${count}`);
  }

  async addHost(name: string, fields: Record<string, unknown> = {}): Promise<LabHostState> {
    const created = await this.api.post<Host>("/api/hosts", {
      networkId: this.state.networkId,
      commonName: name,
      ...fields,
    });
    const index = this.state.hosts.length + 1;
    const host: LabHostState = {
      name,
      id: created.id,
      netns: `sbl-${this.state.id}-${name}`,
      uplink: uplinkOf(HOST_NET_BASE + index),
      dir: join(this.state.dir, name),
      dataAddress: created.address,
    };
    mkdirSync(host.dir, { recursive: true, mode: 0o700 });
    this.state.hosts.push(host);
    this.attach(host.netns, name, HOST_NET_BASE + index);
    return host;
  }

  hostLog(host: LabHostState): string {
    return join(host.dir, "openvpn.log");
  }

  /** Downloads the host's profile (trying `first` first) and starts OpenVPN; resolves when the tunnel is up. */
  async startHost(host: LabHostState, first?: LabSwitchState): Promise<number> {
    const query = first ? `?firstSwitchId=${first.id}` : "";
    const profile = await this.api.get<string>(`/api/hosts/${host.id}/profile${query}`);
    writeFileSync(join(host.dir, "profile.ovpn"), profile, { mode: 0o600 });
    return this.restartHost(host);
  }

  /** Starts the host's OpenVPN with the profile it already has (no API needed); resolves when the tunnel is up. */
  async restartHost(host: LabHostState): Promise<number> {
    const from = logSize(this.hostLog(host));
    const profilePath = join(host.dir, "profile.ovpn");
    host.pid = spawnInNetns(host.netns, [OPENVPN, "--config", profilePath], this.hostLog(host), process.env, host.dir);
    this.save();
    return this.waitTunnelUp(host, from);
  }

  /** Resolves with the time the tunnel came up (the client logged it) after log offset `from`. */
  async waitTunnelUp(host: LabHostState, from: number, timeoutMs = 60_000): Promise<number> {
    const pid = host.pid;
    return waitFor(
      `${host.name}'s tunnel`,
      () => {
        if (pid !== undefined && !alive(pid))
          throw new Error(`${host.name}'s openvpn exited: ${tail(this.hostLog(host))}`);
        return readFrom(this.hostLog(host), from).includes(READY) && Date.now();
      },
      timeoutMs,
      5,
    );
  }

  async stopHost(host: LabHostState, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (host.pid !== undefined) await stopPid(host.pid, signal, 5000);
    host.pid = undefined;
    this.save();
  }

  /** The host's OpenVPN log after offset `from`. */
  logSince(host: LabHostState, from: number): string {
    return readFrom(this.hostLog(host), from);
  }

  logSize(host: LabHostState): number {
    return logSize(this.hostLog(host));
  }

  async sessions(): Promise<SessionRecord[]> {
    return this.api.get<SessionRecord[]>(`/api/sessions?networkId=${this.state.networkId}`);
  }

  /** Waits until the API says `host` has a session on `sw`; returns that session. */
  async waitSessionOn(host: LabHostState, sw: LabSwitchState, timeoutMs = 30_000): Promise<SessionRecord> {
    return waitFor(
      `${host.name} on switch ${sw.name}`,
      async () => (await this.sessions()).find((s) => s.hostId === host.id && s.switchId === sw.id),
      timeoutMs,
      100,
    );
  }

  /** One ICMP echo from a host's namespace; true when answered within `timeoutS`. */
  async ping(from: LabHostState | LabSwitchState, to: string, timeoutS = 2): Promise<boolean> {
    return (await inNetns(from.netns, "ping", ["-c1", "-n", `-W${timeoutS}`, to])).code === 0;
  }

  async down(options: { keepLogs?: boolean } = {}): Promise<void> {
    await downLab(this.state, options);
  }
}

function itemsOf<T>(page: T[] | { items: T[] }): T[] {
  return Array.isArray(page) ? page : page.items;
}

/** Starts a process in the machine's own namespace, detached like spawnInNetns. */
function spawnDetached(argv: readonly string[], logFile: string): number {
  assertMaySpawn(argv.join(" "));
  const out = openSync(logFile, "a");
  try {
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ["ignore", out, out], cwd: REPO });
    if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(out);
  }
}

function logSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function readFrom(path: string, offset: number): string {
  if (!existsSync(path)) return "";
  return readFileSync(path).subarray(offset).toString("utf8");
}

function tail(path: string, lines = 15): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** The pids a lab's state names: hosts, agents (their OpenVPN children die with them), API, forwarders. */
function pidsOf(state: LabState): number[] {
  return [
    ...state.hosts.map((h) => h.pid),
    ...state.switches.map((s) => s.agentPid),
    ...Object.values(state.pids),
  ].filter((pid): pid is number => pid !== undefined);
}

function removeNamespaces(state: LabState): void {
  for (const netns of [...state.namespaces].reverse()) {
    try {
      if (netnsExists(netns)) ip(["netns", "del", netns]);
    } catch (error) {
      // Another clean-up of the same lab may have taken it first.
      if (netnsExists(netns)) throw error;
    }
  }
}

function removeFiles(state: LabState, keepLogs: boolean | undefined): void {
  if (state.madeMountPoint) {
    try {
      rmdirSync(DEFAULT_AGENT_DIR);
    } catch {}
  }
  if (keepLogs) rmSync(join(state.dir, "state.json"), { force: true });
  else rmSync(state.dir, { recursive: true, force: true });
}

const takingDown = new Map<string, Promise<void>>();

/**
 * Undoes a lab from its state: hosts, agents (and their OpenVPN children), the API and
 * forwarders by pid; then anything still running inside its namespaces (by pid, from
 * `ip netns pids`, until none is left); then the namespaces, which takes their interfaces with
 * them. Once begun, nothing writes the lab's state file again; a second call for the same lab
 * waits for the first.
 */
export function downLab(state: LabState, options: { keepLogs?: boolean } = {}): Promise<void> {
  const running = takingDown.get(state.dir);
  if (running) return running;
  closeState(state.dir);
  const done = (async () => {
    await Promise.all(pidsOf(state).map((pid) => stopPid(pid, "SIGTERM", 5000)));
    for (let round = 0; round < 5; round++) {
      const left = state.namespaces.flatMap((netns) => pidsInNetns(netns));
      if (left.length === 0) break;
      await Promise.all(left.map((pid) => stopPid(pid, "SIGKILL", 2000)));
    }
    removeNamespaces(state);
    removeFiles(state, options.keepLogs);
    await sleep(0);
  })();
  takingDown.set(state.dir, done);
  return done;
}

/**
 * downLab without waiting, for a process that is exiting now: SIGKILL to every pid of the lab
 * and of its namespaces, then the namespaces (deleting a namespace does not wait for its last
 * process), then the files (logs kept).
 */
export function downLabSync(state: LabState): void {
  closeState(state.dir);
  const pids = [...pidsOf(state), ...state.namespaces.flatMap((netns) => pidsInNetns(netns))];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  removeNamespaces(state);
  removeFiles(state, true);
}
