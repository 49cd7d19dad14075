import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../src/agent.ts";
import { OpenVpnProcesses } from "../../src/supervise/openvpn-processes.ts";
import { ProcessSupervisor, type Spawner } from "../../src/supervise/process-supervisor.ts";
import { desiredState } from "../support/desired.ts";

/** Generous: the machine may be busy. */
const WAIT = { timeout: 20_000, interval: 10 };

/** Stands in for openvpn: records its arguments (and whether its config existed) and sleeps until killed. */
function recordingSpawner(started: { args: readonly string[]; configExisted: boolean }[]): Spawner {
  return (_command, args) => {
    started.push({ args, configExisted: existsSync(String(args[1])) });
    return spawn("sleep", ["30"], { stdio: "ignore" });
  };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe("process supervision (managed mode)", () => {
  it("restarts a program that keeps exiting, with backoff, and stops for good on stop()", async () => {
    // Fake timers hold the restart delays, so after stop() every one left can be run, not waited out.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const delays: string[] = [];
    let fourthExit = () => {};
    const exited4 = new Promise<void>((resolve) => {
      fourthExit = resolve;
    });
    const supervisor = new ProcessSupervisor({
      name: "crasher",
      command: "sh",
      args: ["-c", "exit 3"],
      backoff: { baseMs: 10, capMs: 40 },
      log: {
        info: () => undefined,
        warn: (message) => {
          delays.push(message);
          // Each restart fires at once (it is scheduled right after this line), up to the fourth exit.
          if (delays.length < 4) queueMicrotask(() => vi.advanceTimersToNextTimer());
          else if (delays.length === 4) fourthExit();
        },
      },
    });
    cleanup.push(() => supervisor.stop());
    supervisor.start();
    await exited4;
    expect(delays.every((line) => /^crasher exited \(code 3\); restarting in \d+ ms$/.test(line))).toBe(true);
    expect(supervisor.starts).toBe(4);
    expect(vi.getTimerCount(), "the fifth start, scheduled").toBe(1);
    await supervisor.stop();
    await vi.runAllTimersAsync();
    expect(supervisor.starts).toBe(4);
    expect(supervisor.running).toBe(false);
  });

  it("ends a running program with SIGTERM on stop()", async () => {
    let child: ChildProcess | undefined;
    const supervisor = new ProcessSupervisor({
      name: "sleeper",
      command: "sleep",
      args: ["30"],
      spawn: (command, args) => {
        child = spawn(command, [...args], { stdio: "ignore" });
        return child;
      },
      // SIGKILL only if SIGTERM is ignored for this long: the signal below tells which one ended it.
      stopTimeoutMs: 60_000,
    });
    supervisor.start();
    await vi.waitFor(() => expect(supervisor.running, "the program to run").toBe(true), WAIT);
    await supervisor.stop();
    expect(supervisor.running).toBe(false);
    expect(child?.signalCode).toBe("SIGTERM");
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
    await expect.poll(() => processes.running().links, { ...WAIT, message: "both links" }).toEqual([2, 3]);
    processes.sync(desiredState({ links: [{ peerOffset: 3, config: "b\n" }] }));
    await expect.poll(() => processes.running().links, { ...WAIT, message: "link 2 to stop" }).toEqual([3]);
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
