import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentToApiMessage, DesiredStateDelta } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent, type AgentOptions } from "../../src/agent.ts";
import { FileWriter } from "../../src/files/file-writer.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";

/**
 * A delta is applied as a delta (issue 14): it touches the files, sessions and routes it names
 * and nothing else; deltas queued behind a busy agent are merged; the cache is saved once per
 * burst. The full observe/plan stays for snapshots and the slow timer.
 */

const CACHE = "state/desired.json";
const JOURNAL = "state/desired.journal";
const dirs: string[] = [];
const agents: Agent[] = [];
const sims: SwitchSim[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const agent of agents.splice(0)) await agent.stop();
  for (const sim of sims.splice(0)) await sim.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runnerWith(ip: FakeIp): CommandRunner {
  const real = spawnRunner();
  return { run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)) };
}

function makeAgent(options: Partial<AgentOptions> & { ip: FakeIp; sent: AgentToApiMessage[]; baseDir?: string }) {
  const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), "sb-agent-delta-"));
  dirs.push(baseDir);
  const agent = new Agent({
    switchId: "sw-a",
    agentVersion: "0.1.0-test",
    send: (message) => options.sent.push(message),
    runner: runnerWith(options.ip),
    statusIntervalMs: 60_000,
    reconcileIntervalMs: 60_000,
    cacheSaveDelayMs: 60_000,
    ...options,
    baseDir,
  });
  agents.push(agent);
  return { agent, baseDir };
}

const delta = (base: number, parts: Partial<DesiredStateDelta>): DesiredStateDelta => ({
  type: "desired-state-delta",
  switchId: "sw-a",
  baseRevision: base,
  revision: base + 1,
  ...parts,
});
const repoint = (base: number, destination: string, via: string) =>
  delta(base, { routes: { upsert: [{ destination, via, dev: "sbb-aaaaa-2" }], remove: [] } });
const acks = (sent: AgentToApiMessage[]) => sent.filter((m) => m.type === "ack");

/** Counts what the agent's file writer is asked to do, by method and path. */
function spyFiles() {
  return {
    observe: vi.spyOn(FileWriter.prototype, "observe"),
    list: vi.spyOn(FileWriter.prototype, "list"),
    write: vi.spyOn(FileWriter.prototype, "write"),
    writeMany: vi.spyOn(FileWriter.prototype, "writeMany"),
    remove: vi.spyOn(FileWriter.prototype, "remove"),
    clear() {
      for (const spy of [this.observe, this.list, this.write, this.writeMany, this.remove]) spy.mockClear();
    },
  };
}
const writtenPaths = (spy: ReturnType<typeof spyFiles>["write"]) => spy.mock.calls.map((call) => call[0]);

describe("a delta applied as a delta", () => {
  it("routes only: one route batch, no file read, listed or written, no full plan", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const { agent } = makeAgent({ ip, sent });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    const files = spyFiles();
    const batches = ip.routeCommands;

    await agent.handleMessage(JSON.stringify(repoint(7, "10.100.100.2/32", "10.200.200.3")));

    expect(acks(sent).at(-1)).toEqual({ type: "ack", revision: 8, ok: true, errors: [], resync: false });
    expect(ip.table.find((r) => r.dst === "10.100.100.2/32")?.gateway).toBe("10.200.200.3");
    expect(ip.routeCommands - batches).toBe(1);
    // The full reconcile starts with observe(): it lists ccd/ and reads every managed file.
    expect(files.list).not.toHaveBeenCalled();
    expect(files.observe).not.toHaveBeenCalled();
    expect(files.write).not.toHaveBeenCalled();
    expect(files.remove).not.toHaveBeenCalled();
  });

  it("one host: writes exactly its ccd file and kills only its session", async () => {
    const sim = await startSwitchSim();
    sims.push(sim);
    const ip = new FakeIp(new Set(["sbb-aaaaa-2", "sbs-aaaaa"]));
    const sent: AgentToApiMessage[] = [];
    const { agent } = makeAgent({ ip, sent, baseDir: sim.baseDir });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    await vi.waitFor(() => expect(sim.management.connections, "management connection").toBeGreaterThan(0), {
      timeout: 30_000,
    });
    const now = Math.floor(Date.now() / 1000);
    sim.connect("web-1", 11, now);
    sim.connect("db-1", 12, now);
    await vi.waitFor(() => expect(agent.resume()[0]).toMatchObject({ sessions: [{}, {}] }), { timeout: 30_000 });
    const files = spyFiles();
    sim.management.received.length = 0;

    const changed = {
      commonName: "db-1",
      address: "10.100.100.11",
      subnets: [],
      clientConfig: 'ifconfig-push 10.100.100.11 255.255.255.0\npush "ping 15"\n',
    };
    await agent.handleMessage(JSON.stringify(delta(7, { hosts: { upsert: [changed], remove: [] } })));

    expect(acks(sent).at(-1)).toMatchObject({ revision: 8, ok: true });
    expect(writtenPaths(files.write)).toEqual(["ccd/db-1"]);
    expect(files.observe).not.toHaveBeenCalled();
    expect(files.list).not.toHaveBeenCalled();
    expect(readFileSync(join(sim.baseDir, "ccd/db-1"), "utf8")).toBe(changed.clientConfig);
    expect(sim.management.received.filter((line) => line.startsWith("client-kill"))).toEqual(["client-kill 12"]);

    // Removed: its file goes and its session is killed; web-1 is left alone again.
    sim.management.received.length = 0;
    files.clear();
    await agent.handleMessage(JSON.stringify(delta(8, { hosts: { upsert: [], remove: ["db-1"] } })));
    expect(files.remove.mock.calls.map((call) => call[0])).toEqual(["ccd/db-1"]);
    expect(existsSync(join(sim.baseDir, "ccd/db-1"))).toBe(false);
    expect(existsSync(join(sim.baseDir, "ccd/web-1"))).toBe(true);
    expect(sim.management.received.filter((line) => line.startsWith("client-kill"))).toEqual(["client-kill 12"]);
  });

  it("three deltas that arrive while the agent is busy are applied as one, acked once with the last revision", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const { agent } = makeAgent({ ip, sent });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    const batches = ip.routeCommands;
    const acksBefore = acks(sent).length;

    // The first keeps the agent busy (its reconcile reads every file); the next three queue up.
    const busy = agent.reconcile();
    const handled = [
      agent.handleMessage(JSON.stringify(repoint(7, "10.100.100.2/32", "10.200.200.3"))),
      agent.handleMessage(JSON.stringify(repoint(8, "10.100.100.10/32", "10.200.200.3"))),
      agent.handleMessage(JSON.stringify(repoint(9, "10.100.100.2/32", "10.200.200.4"))),
    ];
    await Promise.all([busy, ...handled]);

    expect(acks(sent).slice(acksBefore)).toEqual([{ type: "ack", revision: 10, ok: true, errors: [], resync: false }]);
    expect(agent.revision).toBe(10);
    expect(ip.routeCommands - batches).toBe(1);
    const gateways = Object.fromEntries(ip.table.map((r) => [r.dst, r.gateway]));
    expect(gateways).toMatchObject({ "10.100.100.2/32": "10.200.200.4", "10.100.100.10/32": "10.200.200.3" });
  });

  it("saves the cache once for a burst of deltas (at stop here), atomically", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const { agent, baseDir } = makeAgent({ ip, sent });
    await agent.start();
    const files = spyFiles();
    await agent.handleMessage(JSON.stringify(desiredState()));
    const cacheWrites = () => writtenPaths(files.write).filter((path) => path === CACHE).length;
    expect(cacheWrites()).toBe(1); // a snapshot is saved at once

    for (const base of [7, 8, 9]) {
      await agent.handleMessage(JSON.stringify(repoint(base, "10.100.100.2/32", `10.200.200.${base - 4}`)));
    }
    expect(cacheWrites()).toBe(1);
    // Each delta is one line of the journal, not a JSON of the whole state.
    const journal = () => readFileSync(join(baseDir, JOURNAL), "utf8").trim().split("\n");
    await vi.waitFor(() =>
      expect(journal().map((line) => (JSON.parse(line) as DesiredStateDelta).revision)).toEqual([8, 9, 10]),
    );
    expect(statSync(join(baseDir, JOURNAL)).mode & 0o777).toBe(0o600); // it holds keys when a delta does
    await agent.stop();
    expect(cacheWrites()).toBe(2);
    expect(JSON.parse(readFileSync(join(baseDir, CACHE), "utf8"))).toMatchObject({ revision: 10 });
    expect(readdirSync(join(baseDir, "state"))).toEqual(["desired.json"]); // no temp file left
  });

  it("after a crash (no stop) restores the snapshot plus its journal, up to a torn last line", async () => {
    const sent: AgentToApiMessage[] = [];
    const { agent, baseDir } = makeAgent({ ip: new FakeIp(new Set(["sbb-aaaaa-2"])), sent });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    await agent.handleMessage(JSON.stringify(repoint(7, "10.100.100.2/32", "10.200.200.3")));
    await agent.handleMessage(JSON.stringify(repoint(8, "10.100.100.2/32", "10.200.200.4")));
    await vi.waitFor(() => expect(readFileSync(join(baseDir, JOURNAL), "utf8").trim().split("\n")).toHaveLength(2));
    // The crash: the process is gone mid-append, nothing folded.
    const crashed = `${readFileSync(join(baseDir, JOURNAL), "utf8")}{"type":"desired-state-delta","switchId":"sw-a","baseRev`;
    rmSync(join(baseDir, JOURNAL));
    await import("node:fs/promises").then((fs) => fs.writeFile(join(baseDir, JOURNAL), crashed, { mode: 0o600 }));
    agents.splice(agents.indexOf(agent), 1);

    const rebooted = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const { agent: second } = makeAgent({ ip: rebooted, sent: [], baseDir });
    await second.start();
    expect(second.revision).toBe(9);
    expect(rebooted.table.find((r) => r.dst === "10.100.100.2/32")?.gateway).toBe("10.200.200.4");
  });

  it("skips journal lines the snapshot already holds, and stops at a gap", async () => {
    const sent: AgentToApiMessage[] = [];
    const { agent, baseDir } = makeAgent({ ip: new FakeIp(new Set(["sbb-aaaaa-2"])), sent });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    await agent.stop();
    agents.splice(agents.indexOf(agent), 1);
    // A crash between a snapshot (revision 7) and the old journal's removal, then a gap (10 -> 11 missing 9 -> 10).
    const lines = [
      repoint(6, "10.100.100.2/32", "10.200.200.9"),
      repoint(7, "10.100.100.2/32", "10.200.200.3"),
      repoint(8, "10.100.100.2/32", "10.200.200.4"),
      repoint(10, "10.100.100.2/32", "10.200.200.5"),
    ];
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(join(baseDir, JOURNAL), lines.map((line) => `${JSON.stringify(line)}\n`).join(""), { mode: 0o600 }),
    );
    const rebooted = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const { agent: second } = makeAgent({ ip: rebooted, sent: [], baseDir });
    await second.start();
    expect(second.revision).toBe(9);
    expect(rebooted.table.find((r) => r.dst === "10.100.100.2/32")?.gateway).toBe("10.200.200.4");
  });

  it("a reader of the cache never sees half a file while saves follow one another", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const { agent, baseDir } = makeAgent({ ip, sent, cacheSaveDelayMs: 0 });
    await agent.start();
    const hosts = Array.from({ length: 3000 }, (_, i) => ({
      commonName: `h-${i}`,
      address: `10.101.${i >> 8}.${i & 255}`,
      subnets: [],
      clientConfig: `ifconfig-push 10.101.${i >> 8}.${i & 255} 255.255.0.0\n`,
    }));
    await agent.handleMessage(JSON.stringify(desiredState({ hosts: [...desiredState().hosts, ...hosts] })));
    const seen: number[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        seen.push((JSON.parse(readFileSync(join(baseDir, CACHE), "utf8")) as { revision: number }).revision);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let base = 7; base < 27; base++) {
      await agent.handleMessage(JSON.stringify(repoint(base, "10.100.100.2/32", `10.200.200.${(base % 3) + 2}`)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await agent.stop();
    reading = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(JSON.parse(readFileSync(join(baseDir, CACHE), "utf8"))).toMatchObject({ revision: 27 });
  });

  it("the slow reconcile still repairs a ccd file deleted by hand", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const { agent, baseDir } = makeAgent({ ip, sent, reconcileIntervalMs: 200 });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    await agent.handleMessage(JSON.stringify(repoint(7, "10.100.100.2/32", "10.200.200.3")));
    rmSync(join(baseDir, "ccd/db-1"));
    ip.table.splice(
      ip.table.findIndex((r) => r.dst === "10.100.100.10/32"),
      1,
    );
    await vi.waitFor(() => expect(existsSync(join(baseDir, "ccd/db-1")), "ccd/db-1 rewritten").toBe(true), {
      timeout: 10_000,
    });
    expect(readFileSync(join(baseDir, "ccd/db-1"), "utf8")).toContain("10.100.100.11");
    // The slow reconcile reads the kernel too: the route deleted by hand is back.
    await vi.waitFor(() => expect(ip.table.map((r) => r.dst)).toContain("10.100.100.10/32"), { timeout: 10_000 });
  });

  it("a delta whose state fails the config allow-list is refused whole: nothing written, nothing kept", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const { agent, baseDir } = makeAgent({ ip, sent });
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    const files = spyFiles();
    const batches = ip.routeCommands;
    const newHost = { commonName: "new-1", address: "10.100.100.20", subnets: [], clientConfig: "ifconfig-push x\n" };
    const hostile = delta(7, {
      server: { serverConfig: `${desiredState().server.serverConfig}up /bin/sh\n` },
      hosts: { upsert: [newHost], remove: [] },
      routes: { upsert: [{ destination: "10.100.100.20/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" }], remove: [] },
    });
    await agent.handleMessage(JSON.stringify(hostile));

    expect(acks(sent).at(-1)).toMatchObject({ revision: 7, ok: false, resync: false });
    expect(agent.revision).toBe(7);
    expect(files.write).not.toHaveBeenCalled();
    expect(files.writeMany).not.toHaveBeenCalled();
    expect(files.remove).not.toHaveBeenCalled();
    expect(ip.routeCommands).toBe(batches);
    expect(existsSync(join(baseDir, "ccd/new-1"))).toBe(false);
    await agent.stop();
    expect(JSON.parse(readFileSync(join(baseDir, CACHE), "utf8"))).toMatchObject({ revision: 7 });
  });
});
