import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent.ts";
import { OpenVpnProcesses } from "../../src/supervise/openvpn-processes.ts";
import { ProcessSupervisor, type Spawner } from "../../src/supervise/process-supervisor.ts";
import { desiredState } from "../support/desired.ts";

async function until(check: () => boolean, what: string, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Stands in for openvpn: records its arguments (and whether its config existed) and sleeps until killed. */
function recordingSpawner(started: { args: readonly string[]; configExisted: boolean }[]): Spawner {
  return (_command, args) => {
    started.push({ args, configExisted: existsSync(String(args[1])) });
    return spawn("sleep", ["30"], { stdio: "ignore" });
  };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe("process supervision (managed mode)", () => {
  it("restarts a program that keeps exiting, with backoff, and stops for good on stop()", async () => {
    const supervisor = new ProcessSupervisor({
      name: "crasher",
      command: "sh",
      args: ["-c", "exit 3"],
      backoff: { baseMs: 10, capMs: 40 },
    });
    cleanup.push(() => supervisor.stop());
    supervisor.start();
    await until(() => supervisor.starts >= 4, "four starts");
    await supervisor.stop();
    const starts = supervisor.starts;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(supervisor.starts).toBe(starts);
  });

  it("ends a running program with SIGTERM on stop()", async () => {
    const supervisor = new ProcessSupervisor({ name: "sleeper", command: "sleep", args: ["30"] });
    supervisor.start();
    await until(() => supervisor.running, "the program to run");
    const started = Date.now();
    await supervisor.stop();
    expect(supervisor.running).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("runs the data server and one process per link, by absolute config path, and follows the links", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-managed-"));
    const started: { args: readonly string[]; configExisted: boolean }[] = [];
    const processes = new OpenVpnProcesses({ baseDir: base, spawn: recordingSpawner(started) });
    cleanup.push(() => rmSync(base, { recursive: true, force: true }));
    cleanup.push(() => processes.stop());
    const state = desiredState({
      links: [
        { peerOffset: 2, config: "a\n" },
        { peerOffset: 3, config: "b\n" },
      ],
    });
    processes.sync(state);
    processes.sync(state);
    expect(started.map((s) => s.args)).toEqual([
      ["--config", join(base, "server.conf")],
      ["--config", join(base, "backbone-2.conf")],
      ["--config", join(base, "backbone-3.conf")],
    ]);
    await until(() => processes.running().links.length === 2, "both links");
    processes.sync(desiredState({ links: [{ peerOffset: 3, config: "b\n" }] }));
    await until(() => processes.running().links.join() === "3", "link 2 to stop");
    expect(processes.running().server).toBe(true);
    await processes.stop();
    expect(processes.running()).toEqual({ server: false, links: [] });
  });

  it("an agent in managed mode starts OpenVPN only once its files are written", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-managed-agent-"));
    const started: { args: readonly string[]; configExisted: boolean }[] = [];
    const agent = new Agent({
      baseDir: base,
      switchId: "sw-a",
      agentVersion: "test",
      send: () => undefined,
      runner: new FakeIp(),
      openvpn: { mode: "managed", spawn: recordingSpawner(started) },
    });
    cleanup.push(() => rmSync(base, { recursive: true, force: true }));
    cleanup.push(() => agent.stop());
    await agent.handleMessage(JSON.stringify(desiredState()));
    expect(started.map((s) => s.args[1])).toEqual([join(base, "server.conf"), join(base, "backbone-2.conf")]);
    expect(started.every((s) => s.configExisted)).toBe(true);
  });
});
