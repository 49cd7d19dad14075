import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ccdFileName,
  type RenderHost,
  type RenderNetwork,
  type RenderPaths,
  type RenderSwitch,
  renderClientConfigFile,
  renderClientProfile,
  renderSwitchServerConfig,
  serverCommonName,
  switchPaths,
} from "@switchboard/shared";
import { type Need, OPENVPN } from "@switchboard/testkit/env";
import { waitFor } from "@switchboard/testkit/wait";

/**
 * A real OpenVPN 2.6 server and clients in a throwaway network namespace, for the tests that
 * must see what OpenVPN really does. Configs come from the shared renderers, so the lab runs
 * what production runs. Server and clients share one namespace and talk over its loopback; the
 * management socket and the hook FIFO are files, so the test process reaches them from outside.
 */

const READY = "Initialization Sequence Completed";
/** OpenVPN starts in about a second; a busy machine may take many times that. Catches a hang only. */
const START_TIMEOUT_MS = 60_000;

/** What the lab needs from the machine (for describeNeeding). */
export const LAB_NEEDS: Need[] = ["root", "openvpn", "openssl", "netns"];

/** What namespace route tests need (root and iproute2 only). */
export const NETNS_NEEDS: Need[] = ["root", "netns"];

export function uniqueNetns(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export const labNetwork: RenderNetwork = {
  name: "agent-lab",
  dataSubnet: "10.100.100.0/24",
  backboneSubnet: "10.200.200.0/24",
  proto: "udp",
  port: 1194,
  keepaliveInterval: 2,
  keepaliveTimeout: 10,
  dataCiphers: ["AES-256-GCM"],
  pushRoutes: [],
  dnsServers: [],
};

export const labSwitch: RenderSwitch = {
  id: "sw-a",
  name: "a",
  endpointHost: "127.0.0.1",
  endpointPort: 1194,
  dataAddress: "10.100.100.1",
  poolStart: "10.100.100.2",
  poolEnd: "10.100.100.100",
  backboneAddress: "10.200.200.1",
  enabled: true,
};

/** The odd one has a comma-free but dotted CN; status 3 tests add commas via a separate host. */
export function labHost(commonName: string, index: number): RenderHost {
  return { commonName, address: `10.100.100.${210 + index}`, subnets: [], pushRoutes: [], enabled: true };
}

export interface Lab {
  readonly dir: string;
  readonly netns: string;
  readonly paths: RenderPaths;
  readonly hosts: readonly RenderHost[];
  /** Starts the server; resolves once it is initialised. `hook` is the client-connect program's text. */
  startServer(options?: { hook?: string; managementPassword?: string }): Promise<void>;
  /** Starts a client for `commonName`; resolves once it is connected. */
  startClient(commonName: string): Promise<ChildProcess>;
  stop(child: ChildProcess): Promise<void>;
  serverLog(): string;
  clientLog(commonName: string): string;
  close(): Promise<void>;
}

function run(command: string, args: string[], cwd?: string): void {
  execFileSync(command, args, { cwd, stdio: "pipe" });
}

function makePki(dir: string, names: readonly string[]): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(
    "openssl",
    [
      ...["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Agent Test CA"],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ],
    dir,
  );
  const issue = (file: string, cn: string, eku: string) => {
    run("openssl", ["req", ...ec, "-keyout", `${file}.key`, "-out", `${file}.csr`, "-subj", `/CN=${cn}`], dir);
    writeFileSync(
      join(dir, `${file}.ext`),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=${eku}\n`,
    );
    run(
      "openssl",
      [
        ...["x509", "-req", "-in", `${file}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
        ...["-out", `${file}.crt`, "-days", "2", "-extfile", `${file}.ext`],
      ],
      dir,
    );
  };
  // Profiles accept only server.<switch id> (verify-x509-name server. name-prefix).
  issue("server", serverCommonName(labSwitch), "serverAuth");
  names.forEach((name, i) => {
    issue(`host-${i}`, name, "clientAuth");
  });
  mkdirSync(join(dir, "db"));
  writeFileSync(join(dir, "db/index.txt"), "");
  writeFileSync(join(dir, "db/crlnumber"), "01\n");
  writeFileSync(
    join(dir, "ca.cnf"),
    "[ca]\ndefault_ca=c\n[c]\ndatabase=db/index.txt\ncrlnumber=db/crlnumber\ndefault_crl_days=2\ndefault_md=sha256\n",
  );
  run(
    "openssl",
    ["ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "crl.pem"],
    dir,
  );
  run(OPENVPN, ["--genkey", "tls-crypt", join(dir, "tls-crypt.key")]);
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/**
 * `commonNames` may contain characters the renderers refuse (commas, spaces): those hosts get a
 * hand-written ccd file, since the parser must cope with whatever OpenVPN reports.
 */
export async function createLab(commonNames: readonly string[]): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), "sb-agent-lab-"));
  // OpenVPN drops to nobody after start, then still reads ccd/ and the CRL and runs the hook in here.
  chmodSync(dir, 0o711);
  const pki = join(dir, "pki");
  mkdirSync(pki);
  makePki(pki, commonNames);
  const netns = uniqueNetns("sb-test");
  run("ip", ["netns", "add", netns]);
  run("ip", ["-n", netns, "link", "set", "lo", "up"]);
  const paths = switchPaths(join(dir, "switch"));
  mkdirSync(paths.ccdDir, { recursive: true });
  // As the agent writes them: keys root-only, what OpenVPN re-reads as nobody world-readable.
  const copy = (from: string, to: string, mode = 0o600) => {
    writeFileSync(to, readFileSync(join(pki, from)));
    chmodSync(to, mode);
  };
  copy("ca.crt", paths.caCert, 0o644);
  copy("crl.pem", paths.crl, 0o644);
  copy("tls-crypt.key", paths.tlsCryptKey);
  copy("server.crt", paths.serverCert, 0o644);
  copy("server.key", paths.serverKey);
  const hosts = commonNames.map((cn, i) => labHost(cn, i));
  hosts.forEach((host, i) => {
    const plain = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host.commonName);
    const file = plain
      ? (renderClientConfigFile(labNetwork, host, [labSwitch]) ?? "")
      : `ifconfig-push ${host.address} 255.255.255.0\n`;
    writeFileSync(join(paths.ccdDir, plain ? ccdFileName(host) : host.commonName), file);
    void i;
  });
  const children = new Set<ChildProcess>();
  const spawnIn = (name: string, config: string): ChildProcess => {
    const log = join(dir, `${name}.log`);
    const child = spawn("ip", ["netns", "exec", netns, OPENVPN, "--config", config, "--log", log], {
      stdio: "ignore",
    });
    children.add(child);
    child.on("exit", () => children.delete(child));
    return child;
  };
  const stop = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(child.pid, "SIGTERM");
    const guard = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    }, 3000);
    await exited;
    clearTimeout(guard);
  };

  return {
    dir,
    netns,
    paths,
    hosts,
    async startServer(options = {}) {
      writeFileSync(paths.hookCommand, options.hook ?? "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      chmodSync(paths.hookCommand, 0o755);
      let config = renderSwitchServerConfig(labNetwork, labSwitch, [labSwitch], paths);
      config = config.replace(/^port 1194$/m, "port 1194\nlocal 127.0.0.1");
      if (options.managementPassword !== undefined) {
        const pw = join(dir, "mgmt.pw");
        writeFileSync(pw, `${options.managementPassword}\n`, { mode: 0o600 });
        config = config.replace(/^(management \S+ unix)$/m, `$1 ${pw}`);
      }
      writeFileSync(paths.serverConfig, config);
      spawnIn("server", paths.serverConfig);
      const log = join(dir, "server.log");
      await waitFor(
        "the lab server to initialise",
        () => readLog(log).includes(READY) && existsSync(paths.managementSocket),
        START_TIMEOUT_MS,
        25,
      );
    },
    async startClient(commonName) {
      const index = commonNames.indexOf(commonName);
      const host = hosts[index];
      if (host === undefined) throw new Error(`unknown lab host ${commonName}`);
      const read = (name: string) => readFileSync(join(pki, name), "utf8");
      const renderable = { ...host, commonName: `host${index}` };
      let profile = renderClientProfile(labNetwork, renderable, [labSwitch], {
        caPem: read("ca.crt"),
        certPem: read(`host-${index}.crt`),
        keyPem: read(`host-${index}.key`),
        tlsCryptKey: read("tls-crypt.key"),
      });
      // One namespace for all: give each client its own tun so they do not fight over `tun0`.
      profile = profile.replace(/^dev tun$/m, `dev tun-c${index}\ndev-type tun`);
      const file = join(dir, `client-${index}.ovpn`);
      writeFileSync(file, profile);
      const name = `client-${index}`;
      const child = spawnIn(name, file);
      const log = join(dir, `${name}.log`);
      await waitFor(`lab client ${commonName} to connect`, () => readLog(log).includes(READY), START_TIMEOUT_MS, 25);
      return child;
    },
    stop,
    serverLog: () => readLog(join(dir, "server.log")),
    clientLog: (commonName) => readLog(join(dir, `client-${commonNames.indexOf(commonName)}.log`)),
    async close() {
      for (const child of [...children]) await stop(child);
      spawnSync("ip", ["netns", "del", netns]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
