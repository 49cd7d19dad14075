import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  backboneCommonName,
  type LinkEndState,
  type RenderSwitch,
  renderBackboneLinkConfigs,
  switchPaths,
} from "@switchboard/shared";
import { OPENVPN } from "@switchboard/testkit/env";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LinkMonitor } from "../../src/openvpn/link-monitor.ts";
import { LAB_NEEDS, labNetwork, labSwitch, uniqueNetns } from "../support/lab.ts";

/** OpenVPN takes seconds to make a tunnel on a busy machine; these only catch a hang. */
const WAIT = { timeout: 60_000, interval: 25 };
const switchA: RenderSwitch = { ...labSwitch, id: "sw-a", name: "a", backboneAddress: "10.200.200.1" };
const switchB: RenderSwitch = {
  ...labSwitch,
  id: "sw-b",
  name: "b",
  dataAddress: "10.100.100.101",
  poolStart: null,
  poolEnd: null,
  backboneAddress: "10.200.200.2",
};

/** A CA and one backbone certificate per switch (serverAuth and clientAuth, like the API's "backbone" kind). */
function backbonePki(dir: string): void {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Link Test CA"]);
  for (const sw of [switchA, switchB]) {
    run(["req", ...ec, "-keyout", `${sw.id}.key`, "-out", `${sw.id}.csr`, "-subj", `/CN=${backboneCommonName(sw)}`]);
    writeFileSync(
      join(dir, `${sw.id}.ext`),
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
    );
    run([
      ...["x509", "-req", "-in", `${sw.id}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
      ...["-out", `${sw.id}.crt`, "-days", "2", "-extfile", `${sw.id}.ext`],
    ]);
  }
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(
    join(dir, "ca.cnf"),
    "[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\ndefault_crl_days=2\ndefault_md=sha256\n",
  );
  run(["ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "crl.pem"]);
  execFileSync(OPENVPN, ["--genkey", "tls-crypt", join(dir, "tls-crypt.key")]);
}

describeNeeding(LAB_NEEDS, "backbone link monitor against two real OpenVPN link ends", () => {
  let dir: string;
  let netns: string;
  const children = new Map<string, ChildProcess>();
  const reports = { a: [] as LinkEndState[][], b: [] as LinkEndState[][] };
  const reads = { a: [] as boolean[], b: [] as boolean[] };
  const monitors: LinkMonitor[] = [];
  let offsets: { a: number; b: number };
  let configs: { a: string; b: string };

  const start = (name: "a" | "b") => {
    const child = spawn(
      "ip",
      ["netns", "exec", netns, OPENVPN, "--config", configs[name], "--log", join(dir, `${name}.log`)],
      {
        stdio: "ignore",
      },
    );
    children.set(name, child);
  };
  const stop = async (name: "a" | "b") => {
    const child = children.get(name);
    children.delete(name);
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    });
  };
  const up = (name: "a" | "b") => reports[name].at(-1)?.[0]?.up;
  const bothUp = () => up("a") === true && up("b") === true;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sb-link-lab-"));
    // The link ends run as nobody after start and re-read the CRL in here when it changes.
    chmodSync(dir, 0o711);
    const pki = join(dir, "pki");
    mkdirSync(pki);
    backbonePki(pki);
    netns = uniqueNetns("sb-link");
    execFileSync("ip", ["netns", "add", netns]);
    execFileSync("ip", ["-n", netns, "link", "set", "lo", "up"]);
    const paths = { a: switchPaths(join(dir, "a")), b: switchPaths(join(dir, "b")) };
    const ends = renderBackboneLinkConfigs(labNetwork, switchA, switchB, paths.a, paths.b);
    for (const [name, sw, end] of [
      ["a", switchA, ends.a],
      ["b", switchB, ends.b],
    ] as const) {
      const p = paths[name];
      mkdirSync(p.baseDir, { recursive: true });
      const put = (file: string, from: string, mode = 0o600) => {
        writeFileSync(file, readFileSync(join(pki, from)));
        chmodSync(file, mode);
      };
      put(p.caCert, "ca.crt", 0o644);
      put(p.crl, "crl.pem", 0o644);
      put(p.backboneTlsCryptKey, "tls-crypt.key");
      put(p.backboneCert, `${sw.id}.crt`);
      put(p.backboneKey, `${sw.id}.key`);
      writeFileSync(end.configPath, end.config);
    }
    configs = { a: ends.a.configPath, b: ends.b.configPath };
    offsets = { a: 2, b: 1 }; // A's peer is B at .2, B's peer is A at .1
    for (const name of ["a", "b"] as const) {
      const monitor = new LinkMonitor({
        baseDir: paths[name].baseDir,
        onChange: (links) => reports[name].push(links),
        onRead: (_peerOffset, linkUp) => reads[name].push(linkUp),
        reconnectMaxMs: 200,
      });
      monitor.sync([offsets[name]]);
      monitors.push(monitor);
    }
  });
  afterAll(async () => {
    for (const monitor of monitors) monitor.close();
    for (const name of [...children.keys()]) await stop(name as "a" | "b");
    if (netns) execFileSync("ip", ["netns", "del", netns]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reports one end down while its peer is not there, both up once the tunnel is made", async () => {
    await stop("a");
    await stop("b");
    reads.a.length = 0;
    start("a");
    // A's monitor has read A's own state (it is running, without a peer): now "down" is its verdict.
    await expect.poll(() => reads.a.length, { ...WAIT, message: "A's monitor to read A's state" }).toBeGreaterThan(0);
    expect(reads.a).not.toContain(true);
    expect(up("a")).toBe(false);
    start("b");
    await expect.poll(bothUp, { ...WAIT, message: "both ends up" }).toBe(true);
    expect(reports.a.at(-1)?.[0]?.peerOffset).toBe(offsets.a);
  });

  it("reports A down when B's process stops, and up again when it is back", async () => {
    for (const name of ["a", "b"] as const) if (!children.has(name)) start(name);
    await expect.poll(bothUp, { ...WAIT, message: "both ends up to begin with" }).toBe(true);
    await stop("b");
    await expect
      .poll(() => [up("a"), up("b")], { ...WAIT, message: "A to see the link down (explicit-exit-notify)" })
      .toEqual([false, false]);
    start("b");
    await expect.poll(bothUp, { ...WAIT, message: "the link up again" }).toBe(true);
  });
});
