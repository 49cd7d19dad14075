import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// A relative path: this package does not depend on the test kit (and its package.json is not ours to change).
import { OPENVPN } from "@switchboard/testkit/env";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  ccdFileName,
  type RenderHost,
  type RenderPaths,
  type RenderSwitch,
  renderBackboneLinkConfigs,
  renderClientConfigFile,
  renderClientProfile,
  renderSwitchServerConfig,
  switchPaths,
} from "../../src/render/index.ts";
import { type Fixture, fixtures, threeSwitch, twoSwitch } from "./fixtures.ts";

/**
 * Runs the rendered files through a real OpenVPN 2.6: each scenario starts in a throwaway network
 * (and PID) namespace via `unshare -rn --pid`, so tun devices, ports and sockets never touch the
 * machine, and every process dies with the namespace. A server must complete its initialisation
 * and a profile must connect to it and get its ccd address; backbone ends must reach each other.
 * That covers option parsing and more. Real certificates come from a throwaway openssl CA.
 */

const READY = "Initialization Sequence Completed";

let root = "";

function sh(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** A CA, a server certificate, backbone certificates with both EKUs and host certificates. */
function makePki(dir: string, backboneIds: string[], hostNames: string[], impostorOf: string): void {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const issue = (file: string, cn: string, eku: string) => {
    run(["req", ...ec, "-keyout", `${file}.key`, "-out", `${file}.csr`, "-subj", `/CN=${cn}`]);
    writeFileSync(
      join(dir, `${file}.ext`),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=${eku}\n`,
    );
    run([
      "x509",
      "-req",
      "-in",
      `${file}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${file}.crt`,
      "-days",
      "2",
      "-extfile",
      `${file}.ext`,
    ]);
    chmodSync(join(dir, `${file}.key`), 0o600);
  };
  // Profiles accept only a server certificate named server.<switch id> (verify-x509-name).
  issue("server", "server.test-switch", "serverAuth");
  for (const id of backboneIds) issue(`backbone-${id}`, `backbone.${id}`, "serverAuth,clientAuth");
  for (const name of hostNames) issue(`host-${name}`, name, "clientAuth");
  // A host certificate (clientAuth only) that carries a switch's backbone CN.
  issue("impostor", `backbone.${impostorOf}`, "clientAuth");
  mkdirSync(join(dir, "db"));
  writeFileSync(join(dir, "db/index.txt"), "");
  writeFileSync(join(dir, "db/crlnumber"), "01\n");
  writeFileSync(
    join(dir, "ca.cnf"),
    "[ca]\ndefault_ca=c\n[c]\ndatabase=db/index.txt\ncrlnumber=db/crlnumber\ndefault_crl_days=2\ndefault_md=sha256\n",
  );
  run(["ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "crl.pem"]);
  execFileSync(OPENVPN, ["--genkey", "tls-crypt", join(dir, "tls-crypt.key")], { stdio: "pipe" });
  execFileSync(OPENVPN, ["--genkey", "tls-crypt", join(dir, "backbone-tls-crypt.key")], { stdio: "pipe" });
}

/**
 * As root the namespace needs no user namespace, and OpenVPN switches to nobody as rendered. An
 * unprivileged run maps only its own id into the namespace (-r): no other user exists there, so
 * `user`/`group` are left out (the drop itself is proven by the root runs and the agent's lab).
 */
const AS_ROOT = process.getuid?.() === 0;
const UNSHARE = AS_ROOT ? ["-n", "--pid", "--fork", "--kill-child"] : ["-rn", "--pid", "--fork", "--kill-child"];
function runnable(config: string): string {
  return AS_ROOT ? config : config.replace(/^(user|group) .*\n/gm, "");
}

interface Program {
  readonly name: string;
  readonly config: string;
}

interface Wait {
  readonly log: string;
  readonly pattern: string;
}

/** Starts the programs in order inside a fresh namespace, waits for every pattern (or 30 s), stops them. */
async function runInNamespace(dir: string, programs: Program[], waits: Wait[]): Promise<Record<string, string>> {
  const log = (name: string) => join(dir, `${name}.log`);
  const lines = ["ip link set lo up"];
  programs.forEach((program, i) => {
    lines.push(`${OPENVPN} --config ${sh(program.config)} --log ${sh(log(program.name))} & p${i}=$!`, "sleep 0.3");
  });
  const checks = waits.map((wait) => `grep -q -E ${sh(wait.pattern)} ${sh(log(wait.log))} 2>/dev/null || ok=0`);
  lines.push(
    "i=0",
    `while [ $i -lt 300 ]; do ok=1; ${checks.join("; ")}; [ $ok = 1 ] && break; sleep 0.1; i=$((i+1)); done`,
    `kill ${programs.map((_, i) => `$p${i}`).join(" ")}`,
    "wait",
  );
  const script = join(dir, "run.sh");
  writeFileSync(script, `${lines.join("\n")}\n`);
  const child: ChildProcess = spawn("unshare", [...UNSHARE, "sh", script], {
    stdio: "ignore",
  });
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(guard);
      resolve();
    });
  });
  return Object.fromEntries(
    programs.map((program) => [
      program.name,
      existsSync(log(program.name)) ? readFileSync(log(program.name), "utf8") : "",
    ]),
  );
}

/** The fixture with every endpoint on loopback: 127.0.0.1 for the first switch, .2 and .3 next. */
function onLoopback(fixture: Fixture): RenderSwitch[] {
  return fixture.switches.map((sw, i) => ({ ...sw, endpointHost: `127.0.0.${i + 1}` }));
}

/**
 * Concurrent link tests install the same switch at once: write beside and rename, so an OpenVPN
 * starting meanwhile never reads a truncated file (it did: "PEM routines::no start line").
 */
function writeAtomically(path: string, content: string | Buffer, mode: number): void {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, content, { mode });
  chmodSync(temp, mode);
  renameSync(temp, path);
}

function installSwitch(
  fixture: Fixture,
  sw: RenderSwitch,
  pki: string,
  backbone = `backbone-${sw.id}`,
  folder = backbone === `backbone-${sw.id}` ? sw.name : backbone,
): RenderPaths {
  const paths = switchPaths(join(root, fixture.name, folder));
  mkdirSync(paths.ccdDir, { recursive: true });
  // The modes the agent writes: keys for root only (read before the drop), the rest for OpenVPN as nobody.
  const copy = (from: string, to: string, mode = 0o600) => writeAtomically(to, readFileSync(join(pki, from)), mode);
  copy("ca.crt", paths.caCert, 0o644);
  copy("crl.pem", paths.crl, 0o644);
  copy("tls-crypt.key", paths.tlsCryptKey);
  copy("backbone-tls-crypt.key", paths.backboneTlsCryptKey);
  copy("server.crt", paths.serverCert, 0o644);
  copy("server.key", paths.serverKey);
  copy(`${backbone}.crt`, paths.backboneCert, 0o644);
  copy(`${backbone}.key`, paths.backboneKey);
  writeAtomically(paths.hookCommand, "#!/bin/sh\nexit 0\n", 0o755);
  for (const host of fixture.hosts) {
    const file = renderClientConfigFile(fixture.network, host, fixture.switches);
    if (file !== undefined) writeAtomically(join(paths.ccdDir, ccdFileName(host)), file, 0o644);
  }
  return paths;
}

function expectClean(logs: Record<string, string>): void {
  for (const [name, text] of Object.entries(logs)) {
    expect(text, `${name}.log`).not.toMatch(/Options error|Unrecognized option|Exiting due to fatal error/);
  }
}

describeNeeding(
  ["openvpn", "openssl", "userns"],
  "OpenVPN 2.6 runs the rendered configs",
  () => {
    const pki = () => join(root, "pki");

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), "sb-render-"));
      // Like the agent's folder: OpenVPN, as nobody, passes through to ccd/ and the CRL.
      chmodSync(root, 0o711);
      mkdirSync(pki());
      const ids = fixtures.flatMap((fixture) => fixture.switches.map((sw) => sw.id));
      const cns = [...fixtures.flatMap((fixture) => fixture.hosts.map((host) => host.commonName)), "stranger"];
      makePki(pki(), ids, cns, twoSwitch.switches[1]?.id ?? "");
    });

    afterAll(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    for (const fixture of fixtures) {
      it(`${fixture.name}: a switch server starts, a host connects with its ccd address, unknown and disabled hosts get AUTH_FAILED`, async () => {
        const switches = onLoopback(fixture);
        const first = switches[0] as RenderSwitch;
        const host = fixture.hosts[0] as RenderHost;
        const paths = installSwitch(fixture, first, pki());
        const dir = join(root, fixture.name);
        const files: Program[] = [{ name: "server", config: join(dir, "server.conf") }];
        writeFileSync(
          files[0]?.config ?? "",
          runnable(renderSwitchServerConfig(fixture.network, first, switches, paths)),
        );
        const profile = (cn: string, base: RenderHost = host) => {
          const file = join(dir, `${cn}.ovpn`);
          const read = (name: string) => readFileSync(join(pki(), name), "utf8");
          const secrets = {
            caPem: read("ca.crt"),
            certPem: read(`host-${cn}.crt`),
            keyPem: read(`host-${cn}.key`),
            tlsCryptKey: read("tls-crypt.key"),
          };
          writeFileSync(file, renderClientProfile(fixture.network, { ...base, commonName: cn }, switches, secrets));
          return { name: cn, config: file };
        };
        const disabled = fixture.hosts.find((candidate) => !candidate.enabled);
        const programs = [...files, profile(host.commonName), profile("stranger")];
        const refused = [...(disabled ? [disabled.commonName] : []), "stranger"];
        if (disabled) programs.push(profile(disabled.commonName, disabled));
        const waits: Wait[] = [
          { log: "server", pattern: READY },
          { log: host.commonName, pattern: READY },
          ...refused.map((cn) => ({ log: cn, pattern: "AUTH_FAILED" })),
        ];

        const logs = await runInNamespace(dir, programs, waits);

        expectClean(logs);
        const server = logs.server ?? "";
        const client = logs[host.commonName] ?? "";
        expect(server, "server.log").toContain(READY);
        // Root only to start; the client's ccd file and the CRL are then read as nobody.
        if (AS_ROOT) expect(server, "server.log").toMatch(/UID set to nobody/);
        expect(client, `${host.commonName}.log`).toContain(READY);
        const reply = /PUSH_REPLY,([^']*)/.exec(client)?.[1] ?? "";
        expect(reply).toContain(`ifconfig ${host.address} `);
        expect(reply).toContain(`route-gateway ${first.dataAddress}`);
        for (const route of host.pushRoutes) expect(reply).toContain(`route ${route.split("/")[0]} `);
        if (fixture.name === "two-switch-24") {
          // The network pushes the subnet behind web-1; web-1 itself must not route it into the tunnel.
          expect(reply).not.toContain("route 192.168.10.0 ");
        }
        for (const cn of refused) {
          // Unknown and disabled hosts have no ccd file: refused before they get an address, and told to stop.
          expect(server, "server.log").toContain(`--client-config-dir authentication failed for common name '${cn}'`);
          expect(logs[cn], `${cn}.log`).toContain("AUTH_FAILED");
        }
      });

      const switches = onLoopback(fixture);
      const pairs = switches.flatMap((a, i) => switches.slice(i + 1).map((b) => [a, b] as const));
      for (const [a, b] of pairs) {
        it.concurrent(`${fixture.name}: backbone link ${a.name} <-> ${b.name} comes up over ${fixture.network.proto}`, async () => {
          const dir = join(root, fixture.name, `link-${a.name}-${b.name}`);
          mkdirSync(dir, { recursive: true });
          const link = renderBackboneLinkConfigs(
            fixture.network,
            a,
            b,
            installSwitch(fixture, a, pki()),
            installSwitch(fixture, b, pki()),
          );
          // The TLS server end first, so that over TCP the client finds it listening.
          const ends = link.a.role === "tls-server" ? [link.a, link.b] : [link.b, link.a];
          const programs = ends.map((end) => {
            const config = join(dir, `${end.switchId}.conf`);
            writeFileSync(config, runnable(end.config));
            return { name: end.switchId, config };
          });
          const logs = await runInNamespace(
            dir,
            programs,
            programs.map((p) => ({ log: p.name, pattern: READY })),
          );

          expectClean(logs);
          for (const end of ends) {
            const text = logs[end.switchId] ?? "";
            expect(text, `${end.switchId}.log`).toContain(READY);
            expect(text).toContain(`VERIFY X509NAME OK: CN=backbone.${end.peerId}`);
          }
        });
      }
    }

    it("a host's profile cannot even start a handshake with a backbone link end (the links have their own tls-crypt key)", async () => {
      const [a, b] = onLoopback(twoSwitch) as [RenderSwitch, RenderSwitch];
      const host = twoSwitch.hosts[0] as RenderHost;
      const dir = join(root, twoSwitch.name, "host-at-link");
      mkdirSync(dir, { recursive: true });
      const link = renderBackboneLinkConfigs(twoSwitch.network, a, b, installSwitch(twoSwitch, a, pki()));
      const end = link.a.role === "tls-server" ? link.a : link.b;
      const linkConfig = join(dir, "link.conf");
      writeFileSync(linkConfig, runnable(end.config));
      const read = (name: string) => readFileSync(join(pki(), name), "utf8");
      // A former host keeps its profile: the data servers' tls-crypt key and its own certificate.
      const profile = renderClientProfile(twoSwitch.network, host, [a, b], {
        caPem: read("ca.crt"),
        certPem: read(`host-${host.commonName}.crt`),
        keyPem: read(`host-${host.commonName}.key`),
        tlsCryptKey: read("tls-crypt.key"),
      }).replace(/^remote .*$/gm, "");
      const hostConfig = join(dir, "host.ovpn");
      writeFileSync(hostConfig, `${profile}remote ${a.endpointHost} ${end.localPort}\n`);

      const logs = await runInNamespace(
        dir,
        [
          { name: "link", config: linkConfig },
          { name: "host", config: hostConfig },
        ],
        [{ log: "link", pattern: "tls-crypt unwrapping failed" }],
      );

      expectClean(logs);
      expect(logs.link, "link.log").toMatch(/tls-crypt unwrapping failed/);
      // Refused before TLS: its certificate was never even looked at.
      expect(logs.link, "link.log").not.toMatch(/VERIFY/);
    });

    it("a switch's backbone certificate (it has serverAuth too) cannot pose as a data server to hosts", async () => {
      const fixture = twoSwitch;
      const switches = onLoopback(fixture);
      const first = switches[0] as RenderSwitch;
      const other = switches[1] as RenderSwitch;
      const host = fixture.hosts[0] as RenderHost;
      const dir = join(root, fixture.name, "backbone-as-server");
      mkdirSync(dir, { recursive: true });
      const paths = installSwitch(fixture, first, pki(), `backbone-${first.id}`, "backbone-as-server");
      // The other switch's backbone key pair in the data server's place (what a compromised switch holds).
      writeAtomically(paths.serverCert, readFileSync(join(pki(), `backbone-${other.id}.crt`)), 0o644);
      writeAtomically(paths.serverKey, readFileSync(join(pki(), `backbone-${other.id}.key`)), 0o600);
      const serverConfig = join(dir, "server.conf");
      writeFileSync(serverConfig, runnable(renderSwitchServerConfig(fixture.network, first, switches, paths)));
      const read = (name: string) => readFileSync(join(pki(), name), "utf8");
      const hostConfig = join(dir, "host.ovpn");
      writeFileSync(
        hostConfig,
        renderClientProfile(fixture.network, host, [first], {
          caPem: read("ca.crt"),
          certPem: read(`host-${host.commonName}.crt`),
          keyPem: read(`host-${host.commonName}.key`),
          tlsCryptKey: read("tls-crypt.key"),
        }),
      );

      const logs = await runInNamespace(
        dir,
        [
          { name: "server", config: serverConfig },
          { name: "host", config: hostConfig },
        ],
        [{ log: "host", pattern: "VERIFY X509NAME ERROR" }],
      );

      expectClean(logs);
      expect(logs.host, "host.log").toContain(`VERIFY X509NAME ERROR: CN=backbone.${other.id}, must be server.`);
      expect(logs.host, "host.log").not.toContain(READY);
    });

    it("another switch's backbone certificate cannot pose as the peer of a link (the exact name is pinned)", async () => {
      const [a, b] = onLoopback(twoSwitch) as [RenderSwitch, RenderSwitch];
      const other = threeSwitch.switches[0] as RenderSwitch;
      const dir = join(root, twoSwitch.name, "wrong-peer-link");
      mkdirSync(dir, { recursive: true });
      const link = renderBackboneLinkConfigs(
        twoSwitch.network,
        a,
        b,
        installSwitch(twoSwitch, a, pki()),
        // B's end, holding a valid backbone certificate of the same CA, but another switch's.
        installSwitch(twoSwitch, b, pki(), `backbone-${other.id}`, "wrong-peer"),
      );
      const ends = link.a.role === "tls-server" ? [link.a, link.b] : [link.b, link.a];
      const programs = ends.map((end) => {
        const config = join(dir, `${end.switchId}.conf`);
        writeFileSync(config, runnable(end.config));
        return { name: end.switchId, config };
      });
      const logs = await runInNamespace(dir, programs, [{ log: a.id, pattern: "VERIFY X509NAME ERROR" }]);

      expectClean(logs);
      expect(logs[a.id], `${a.id}.log`).toContain(
        `VERIFY X509NAME ERROR: CN=backbone.${other.id}, must be backbone.${b.id}`,
      );
      expect(logs[a.id], `${a.id}.log`).not.toContain(READY);
    });

    it("a host certificate carrying a switch's backbone CN cannot join the backbone", async () => {
      const [a, b] = onLoopback(twoSwitch) as [RenderSwitch, RenderSwitch];
      const dir = join(root, twoSwitch.name, "impostor-link");
      mkdirSync(dir, { recursive: true });
      const link = renderBackboneLinkConfigs(
        twoSwitch.network,
        a,
        b,
        installSwitch(twoSwitch, a, pki()),
        installSwitch(twoSwitch, b, pki(), "impostor"),
      );
      const programs = [link.a, link.b].map((end) => {
        const config = join(dir, `${end.role}.conf`);
        writeFileSync(config, runnable(end.config));
        return { name: end.role, config };
      });
      const logs = await runInNamespace(dir, programs, [{ log: "tls-server", pattern: "VERIFY EKU ERROR" }]);

      expectClean(logs);
      expect(logs["tls-server"], "tls-server.log").toContain("VERIFY EKU ERROR");
      expect(logs["tls-server"], "tls-server.log").not.toContain(READY);
    });
  },
  { timeout: 60_000 },
);
