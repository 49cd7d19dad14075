import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type HookEvent, parseHookLine } from "../../src/hook/hook-line.ts";
import { HookListener } from "../../src/hook/hook-listener.ts";
import { renderHookScript } from "../../src/hook/hook-script.ts";
import { type ClientNotification, ManagementClient } from "../../src/openvpn/management-client.ts";
import { spawnRunner } from "../../src/system/command-runner.ts";
import { createLab, LAB_NEEDS, type Lab } from "../support/lab.ts";

const CONNECT_ENV = {
  script_type: "client-connect",
  time_unix: "1795690018",
  common_name: "beta, with comma",
  trusted_ip: "192.0.2.11",
  trusted_port: "43874",
  ifconfig_pool_remote_ip: "10.100.100.211",
  dev: "sbs-pqwy8",
};

describe("parseHookLine", () => {
  it("reads a connect line", () => {
    expect(
      parseHookLine(
        "sb1\tclient-connect\t1795690018\tbeta, with comma\t192.0.2.11\t43874\t10.100.100.211\t\t\t\tsbs-pqwy8",
      ),
    ).toEqual({
      kind: "connect",
      commonName: "beta, with comma",
      realAddress: "192.0.2.11:43874",
      virtualAddress: "10.100.100.211",
      connectedAt: 1795690018,
      bytesReceived: null,
      bytesSent: null,
      durationSeconds: null,
      dev: "sbs-pqwy8",
    });
  });

  it("reads a disconnect line with counters, and an IPv6 real address", () => {
    expect(
      parseHookLine("sb1\tclient-disconnect\t1795690018\tweb-1\t2001:db8::5\t1194\t10.100.100.10\t100\t200\t42\tsbs-x"),
    ).toMatchObject({
      kind: "disconnect",
      realAddress: "[2001:db8::5]:1194",
      bytesReceived: 100,
      bytesSent: 200,
      durationSeconds: 42,
    });
  });

  it("drops anything else", () => {
    for (const line of [
      "",
      "hello",
      "sb1\tclient-connect\tx\tcn\t\t\t\t\t\t\t",
      "sb2\tclient-connect\t1\tcn\t\t\t\t\t\t\t",
      "sb1\tup\t1\tcn\t\t\t\t\t\t\t",
    ]) {
      expect(parseHookLine(line)).toBeUndefined();
    }
  });

  it("recovers the next line when one was cut short", () => {
    expect(parseHookLine("sb1\tclient-conn sb1\tclient-connect\t1\tcn\t\t\t\t\t\t\t")?.commonName).toBe("cn");
  });
});

/**
 * A hook that blocked would hang for good (a blocking FIFO open waits forever), so a deadline
 * this long tells "returned by itself" from "was killed" on any machine. How fast it returns is
 * `pnpm bench:hook`'s business.
 */
const HANG_MS = 20_000;

function runHook(program: string, env: Record<string, string>) {
  const result = spawnSync(program, [], { env, timeout: HANG_MS });
  return { status: result.status, signal: result.signal };
}

/** Generous: the machine may be busy. */
const WAIT = { timeout: 20_000, interval: 10 };

describe("the client hook program", () => {
  let dir = "";
  let fifo = "";
  let script = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sb-hook-"));
    fifo = join(dir, "hook.fifo");
    script = join(dir, "client-hook");
    writeFileSync(script, renderHookScript(fifo), { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 0 by itself and creates nothing when the agent never ran (no FIFO)", () => {
    rmSync(fifo, { force: true });
    expect(runHook(script, CONNECT_ENV), `exit status (killed after ${HANG_MS} ms if hung)`).toEqual({
      status: 0,
      signal: null,
    });
    expect(existsSync(fifo)).toBe(false);
  });

  it("exits 0 by itself when the agent is down (FIFO without reader: no blocking open)", () => {
    rmSync(fifo, { force: true });
    execFileSync("mkfifo", [fifo]);
    try {
      expect(runHook(script, CONNECT_ENV), `exit status (killed after ${HANG_MS} ms if hung)`).toEqual({
        status: 0,
        signal: null,
      });
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    } finally {
      rmSync(fifo);
    }
  });

  it("delivers each run's line to the listener as one event", async () => {
    const events: HookEvent[] = [];
    const listener = new HookListener(fifo, spawnRunner(), (event) => events.push(event));
    await listener.start();
    try {
      const runs = Array.from({ length: 20 }, (_, i) => runHook(script, { ...CONNECT_ENV, trusted_port: String(i) }));
      expect(runs.filter((run) => run.status !== 0)).toEqual([]);
      await expect.poll(() => events.length, { ...WAIT, message: "20 hook events" }).toBe(20);
      expect(events[0]).toMatchObject({
        kind: "connect",
        commonName: "beta, with comma",
        realAddress: "192.0.2.11:0",
      });
      // One event per run, in the order they ran: no line lost, split or glued to another.
      expect(events.map((event) => event.realAddress)).toEqual(runs.map((_, i) => `192.0.2.11:${i}`));
    } finally {
      listener.close();
    }
  });
});

describeNeeding(LAB_NEEDS, "the hook under a real OpenVPN 2.6 server", () => {
  let lab: Lab;
  let management: ManagementClient;
  let fifo = "";
  beforeAll(async () => {
    lab = await createLab(["hooked.one", "hooked.two"]);
    fifo = join(lab.paths.baseDir, "hook.fifo");
    await lab.startServer({ hook: renderHookScript(fifo) });
    management = new ManagementClient({ socketPath: lab.paths.managementSocket }).start();
    await management.whenReady(WAIT.timeout);
  });
  afterAll(async () => {
    management?.close();
    await lab?.close();
  });

  it("reports the connect with OpenVPN's address and time, and the disconnect with its byte counts", async () => {
    const events: HookEvent[] = [];
    const listener = new HookListener(fifo, spawnRunner(), (event) => events.push(event));
    await listener.start();
    const established = new Promise<ClientNotification>((resolve) =>
      management.once("client", (notification) => resolve(notification)),
    );
    try {
      await lab.startClient("hooked.one");
      const notification = await established;
      const connect = await vi.waitFor(() => {
        const found = events.find((e) => e.kind === "connect" && e.commonName === "hooked.one");
        if (!found) throw new Error("no connect event from the hook yet");
        return found;
      }, WAIT);
      expect(connect).toMatchObject({
        virtualAddress: "10.100.100.210",
        connectedAt: Number(notification.env.time_unix),
      });

      await management.clientKill(notification.clientId);
      const disconnect = await vi.waitFor(() => {
        const found = events.find((e) => e.kind === "disconnect");
        if (!found) throw new Error("no disconnect event from the hook yet");
        return found;
      }, WAIT);
      expect(disconnect).toMatchObject({ commonName: "hooked.one" });
      expect(disconnect.bytesReceived).toBeGreaterThan(0);
    } finally {
      listener.close();
    }
  });

  it("never blocks or fails a connection while the agent is down", async () => {
    // The FIFO is there (the agent ran before) but nobody reads it.
    if (!existsSync(fifo)) execFileSync("mkfifo", [fifo]);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    // A blocked hook would hold the client in its handshake: startClient's own deadline fails then.
    await lab.startClient("hooked.two");
    expect(lab.serverLog()).not.toMatch(/client-connect command failed|WARNING: Failed running command/);
    const status = await management.status3();
    expect(status.clients.map((c) => c.commonName)).toContain("hooked.two");
  });
});
