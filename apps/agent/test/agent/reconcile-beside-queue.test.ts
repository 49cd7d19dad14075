import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentToApiMessage, DesiredStateDelta } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../src/agent.ts";
import { FileWriter } from "../../src/files/file-writer.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";

/**
 * The periodic reconcile reads and hashes every managed file (seconds at 50,000 hosts): that
 * read runs beside the agent's queue, so a delta arriving meanwhile is applied and acked at once,
 * and the reconcile's plan afterwards reads again what the delta changed instead of undoing it.
 */

const dirs: string[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const agent of agents.splice(0)) await agent.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runnerWith(ip: FakeIp): CommandRunner {
  const real = spawnRunner();
  return { run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)) };
}

describe("the periodic reconcile beside the queue", () => {
  it("a delta during its observe is acked before the observe ends, and the plan after it keeps the delta's files", async () => {
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const baseDir = mkdtempSync(join(tmpdir(), "sb-agent-beside-"));
    dirs.push(baseDir);
    const agent = new Agent({
      baseDir,
      switchId: "sw-a",
      agentVersion: "0.1.0-test",
      send: (message) => sent.push(message),
      runner: runnerWith(ip),
      statusIntervalMs: 60_000,
      reconcileIntervalMs: 60_000,
    });
    agents.push(agent);
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    expect(existsSync(join(baseDir, "ccd/db-1"))).toBe(true);

    // The reconcile's observe waits on a gate this test opens.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const original = FileWriter.prototype.observeMany;
    const observeMany = vi.spyOn(FileWriter.prototype, "observeMany").mockImplementationOnce(async function (
      this: FileWriter,
      ...args: Parameters<FileWriter["observeMany"]>
    ) {
      await gate;
      return original.apply(this, args);
    });
    const reconciled = agent.reconcile();
    await vi.waitFor(() => expect(observeMany).toHaveBeenCalled(), { timeout: 10_000 });

    const newHost = {
      commonName: "new-1",
      address: "10.100.100.20",
      subnets: [],
      clientConfig: "ifconfig-push 10.100.100.20 255.255.255.0\n",
    };
    const delta: DesiredStateDelta = {
      type: "desired-state-delta",
      switchId: "sw-a",
      baseRevision: 7,
      revision: 8,
      hosts: { upsert: [newHost], remove: ["db-1"] },
    };
    await agent.handleMessage(JSON.stringify(delta));
    expect(sent.filter((m) => m.type === "ack").at(-1)).toMatchObject({ revision: 8, ok: true });
    expect(readFileSync(join(baseDir, "ccd/new-1"), "utf8")).toBe(newHost.clientConfig);
    expect(existsSync(join(baseDir, "ccd/db-1"))).toBe(false);

    const write = vi.spyOn(FileWriter.prototype, "write");
    const remove = vi.spyOn(FileWriter.prototype, "remove");
    open();
    expect(await reconciled).toEqual([]);
    // Read again, not planned from the stale read: neither rewritten nor removed a second time.
    expect(write.mock.calls.map((call) => call[0])).not.toContain("ccd/new-1");
    expect(remove.mock.calls.map((call) => call[0])).not.toContain("ccd/db-1");
    expect(readFileSync(join(baseDir, "ccd/new-1"), "utf8")).toBe(newHost.clientConfig);
    expect(existsSync(join(baseDir, "ccd/db-1"))).toBe(false);
    expect(agent.revision).toBe(8);
  });
});
