import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentToApiMessage, DesiredState } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { OPENVPN } from "@switchboard/testkit/env";
import { describeNeeding } from "@switchboard/testkit/needs";
import { waitFor } from "@switchboard/testkit/wait";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../src/agent.ts";
import type { Spawner } from "../../src/supervise/process-supervisor.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";
import { createLab, LAB_NEEDS, type Lab } from "../support/lab.ts";
import { startManagedAgent } from "../support/managed-lab.ts";

/**
 * A compromised API plays the agent's channel (the test hands its frames to handleMessage, as
 * the channel does) and sends configs that would make the switch run its program as root. The
 * agent must refuse the whole state: an error ack, nothing written, nothing cached, no OpenVPN
 * started or restarted.
 */

const WAIT = { timeout: 60_000, interval: 50 };
const READY = "Initialization Sequence Completed";

function runnerWith(ip: FakeIp): CommandRunner {
  const real = spawnRunner();
  return { run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)) };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Harness {
  readonly agent: Agent;
  readonly base: string;
  readonly sent: AgentToApiMessage[];
  readonly spawned: string[];
}

/** An agent in managed mode whose OpenVPN is a sleeper that records which config it was started with. */
async function managedAgent(): Promise<Harness> {
  const base = mkdtempSync(join(tmpdir(), "sb-hostile-"));
  const sent: AgentToApiMessage[] = [];
  const spawned: string[] = [];
  const spawner: Spawner = (_command, args) => {
    spawned.push(String(args[1]));
    return spawn("sleep", ["30"], { stdio: "ignore" });
  };
  const agent = new Agent({
    baseDir: base,
    switchId: "sw-a",
    agentVersion: "test",
    send: (message) => sent.push(message),
    runner: runnerWith(new FakeIp(new Set(["sbb-aaaaa-2"]))),
    statusIntervalMs: 60_000,
    reconcileIntervalMs: 60_000,
    openvpn: { mode: "managed", spawn: spawner },
  });
  cleanup.push(() => rmSync(base, { recursive: true, force: true }));
  cleanup.push(() => agent.stop());
  await agent.start();
  return { agent, base, sent, spawned };
}

const good = desiredState();
const withServerLines = (...lines: string[]): DesiredState => ({
  ...good,
  server: { ...good.server, serverConfig: `${good.server.serverConfig}${lines.map((l) => `${l}\n`).join("")}` },
});
const serverLines = good.server.serverConfig.split("\n").length;

const attacks: Record<string, { state: DesiredState; target: string; says: RegExp }> = {
  "an up script": {
    state: withServerLines('up "/bin/sh -c /usr/bin/touch /tmp/sb-owned"'),
    target: "server.conf",
    says: new RegExp(`^refused: line ${serverLines}: 'up' is not a directive`),
  },
  "a plugin": {
    state: withServerLines("plugin /usr/lib/x86_64-linux-gnu/openvpn/plugins/openvpn-plugin-down-root.so /tmp/x"),
    target: "server.conf",
    says: /'plugin' is not a directive/,
  },
  "script-security 3 and a client-connect program of its own": {
    state: withServerLines("script-security 3", "client-connect /tmp/x"),
    target: "server.conf",
    says: /'script-security 3': arguments must be '2'/,
  },
  "an up script on a backbone link": {
    state: { ...good, links: [{ peerOffset: 2, config: `${good.links[0]?.config}up /tmp/x\n` }] },
    target: "backbone-2.conf",
    says: /'up' is not a directive/,
  },
};

describe("a desired state from a compromised API", () => {
  for (const [what, attack] of Object.entries(attacks)) {
    it(`with ${what} is refused whole: error ack, nothing written or cached, no OpenVPN started`, async () => {
      const { agent, base, sent, spawned } = await managedAgent();

      await agent.handleMessage(JSON.stringify(attack.state));

      expect(sent.at(-1)).toMatchObject({ type: "ack", ok: false, revision: null, resync: false });
      const errors = sent.at(-1)?.type === "ack" ? (sent.at(-1) as { errors: unknown[] }).errors : [];
      expect(errors).toContainEqual({
        scope: "protocol",
        target: attack.target,
        message: expect.stringMatching(attack.says),
      });
      // Only what start() makes before any state: the hook's FIFO.
      expect(readdirSync(base)).toEqual(["hook.fifo"]);
      expect(spawned).toEqual([]);
      expect(agent.revision).toBeNull();
    });
  }

  it("as a delta over a good state is refused: the running files, cache and processes stay as they were", async () => {
    const { agent, base, sent, spawned } = await managedAgent();
    await agent.handleMessage(JSON.stringify(good));
    expect(sent.at(-1)).toMatchObject({ type: "ack", ok: true, revision: 7 });
    expect(spawned).toEqual([join(base, "server.conf"), join(base, "backbone-2.conf")]);
    const cache = readFileSync(join(base, "state/desired.json"), "utf8");

    const hostile = withServerLines("script-security 3", "client-connect /tmp/x").server.serverConfig;
    await agent.handleMessage(
      JSON.stringify({
        type: "desired-state-delta",
        switchId: "sw-a",
        baseRevision: 7,
        revision: 8,
        server: { serverConfig: hostile },
      }),
    );

    expect(sent.at(-1)).toMatchObject({ type: "ack", ok: false, revision: 7 });
    expect(readFileSync(join(base, "server.conf"), "utf8")).toBe(good.server.serverConfig);
    expect(readFileSync(join(base, "state/desired.json"), "utf8")).toBe(cache);
    // A reload would have restarted the server: it was started once, with the good config.
    expect(spawned).toHaveLength(2);
    expect(agent.revision).toBe(7);
  });
});

describeNeeding(LAB_NEEDS, "a compromised API against a real OpenVPN 2.6 in managed mode", () => {
  it("cannot get its up script run: the agent keeps the running server, which the same script would have owned", async () => {
    const lab: Lab = await createLab([]);
    cleanup.push(() => lab.close());
    const managed = await startManagedAgent(lab);
    cleanup.push(() => managed.agent.stop());
    const { agent, sent, state, started, baseDir } = managed;
    const marker = join(lab.dir, "owned-by-up");
    await agent.handleMessage(JSON.stringify(state));
    expect(sent.at(-1)).toMatchObject({ type: "ack", ok: true, revision: 1 });
    await waitFor("the agent's OpenVPN to start", () => managed.log().includes(READY), WAIT.timeout);
    expect(managed.log()).toContain("UID set to nobody");

    // Runs as root at start, before the drop: `up` is the way to own the switch.
    const hostile = `${state.server.serverConfig}up "/usr/bin/touch ${marker}"\n`;
    await agent.handleMessage(
      JSON.stringify({
        type: "desired-state-delta",
        switchId: state.switchId,
        baseRevision: 1,
        revision: 2,
        server: { serverConfig: hostile },
      }),
    );

    expect(sent.at(-1)).toMatchObject({ type: "ack", ok: false, revision: 1 });
    expect(readFileSync(join(baseDir, "server.conf"), "utf8")).toBe(state.server.serverConfig);
    expect(started).toHaveLength(1);
    expect(existsSync(marker)).toBe(false);

    // The same text, run by OpenVPN the way the agent would have after writing it, does own the switch.
    await agent.stop();
    const direct = join(lab.dir, "hostile.conf");
    writeFileSync(direct, hostile);
    // OpenVPN runs `up` with the device, MTU and addresses as arguments: touch makes those files too, in the lab.
    const owned = spawn("ip", ["netns", "exec", lab.netns, OPENVPN, "--config", direct, "--log", `${direct}.log`], {
      stdio: "ignore",
      cwd: lab.dir,
    });
    cleanup.push(async () => {
      const exited = new Promise((resolve) => owned.once("exit", resolve));
      if (owned.exitCode === null && owned.kill("SIGTERM")) await exited;
    });
    await vi.waitFor(() => expect(existsSync(marker), "the up script's file").toBe(true), WAIT);
  }, 180_000);
});
