import { strict as assert } from "node:assert";
import { SERVER_POLL_TIMEOUT } from "@switchboard/shared";
import type { Lab } from "../lab.ts";
import { Prober } from "../probe.ts";
import type { LabHostState, LabSwitchState } from "../state.ts";
import { stopPid } from "../system.ts";
import { assertReachable, type Scenario, type ScenarioContext } from "./context.ts";

/**
 * Switch A fails three ways; each time every host of A must come back through B. The outage
 * per host is the longest silence in a 100/s ping from host2 (on B) that began at the failure.
 */
export const failover: Scenario = {
  name: "failover: A stopped cleanly, A's agent and OpenVPN SIGKILLed, A's uplink cut; A's hosts come back through B",
  async run(ctx) {
    const { lab } = ctx;
    const a = lab.switch("a");
    const network = await lab.api.get<{ keepaliveTimeout: number }>(`/api/networks/${lab.state.networkId}`);
    // ping-restart + server-poll-timeout + 3 s (OPENVPN-NOTES.md), and under 20 s.
    const bound = Math.min(network.keepaliveTimeout + SERVER_POLL_TIMEOUT + 3, 20);
    ctx.figures.failoverTargetS = bound;

    try {
      await failThreeWays(ctx, bound);
    } finally {
      lab.setUplink(`sw-${a.name}`, true);
      if (a.agentPid === undefined) await lab.startAgent(a);
    }
  },
};

async function failThreeWays(ctx: ScenarioContext, bound: number): Promise<void> {
  const { lab } = ctx;
  const [a, b] = [lab.switch("a"), lab.switch("b")];
  const hostsOfA = [lab.host("host1"), lab.host("host3")];
  const clean = await measure(ctx, "clean stop", hostsOfA, a, b, () => lab.stopAgent(a, "SIGTERM"));
  target(ctx, "clean stop", clean, 3);
  await bringBack(lab, a, hostsOfA);

  const crash = await measure(ctx, "SIGKILL", hostsOfA, a, b, async () => {
    const openvpn = lab.openvpnPids(a);
    assert.ok(openvpn.length > 0, "A runs OpenVPN");
    // The whole switch dies at once: the agent cannot restart OpenVPN and nothing says goodbye.
    if (a.agentPid !== undefined) process.kill(a.agentPid, "SIGKILL");
    for (const pid of openvpn) process.kill(pid, "SIGKILL");
    await Promise.all([a.agentPid, ...openvpn].map((pid) => (pid === undefined ? undefined : stopPid(pid, "SIGKILL"))));
    a.agentPid = undefined;
  });
  target(ctx, "SIGKILL", crash, bound);
  await bringBack(lab, a, hostsOfA);

  const cut = await measure(ctx, "uplink cut", hostsOfA, a, b, async () => lab.setUplink(`sw-${a.name}`, false));
  lab.setUplink(`sw-${a.name}`, true);
  target(ctx, "uplink cut", cut, bound);
  await bringBack(lab, a, hostsOfA);
}

/**
 * The outage targets are figures, not pass criteria (no timing assertions in tests): the
 * scenario passes when every host came back through B, and says how each outage compares.
 */
function target({ log }: ScenarioContext, kind: string, seconds: number, limit: number): void {
  log(`${kind}: worst outage ${seconds.toFixed(1)} s, target ${limit} s: ${seconds <= limit ? "met" : "MISSED"}`);
}

async function measure(
  { lab, figures, log }: ScenarioContext,
  kind: string,
  hosts: readonly LabHostState[],
  from: LabSwitchState,
  to: LabSwitchState,
  fail: () => Promise<void>,
): Promise<number> {
  const observer = lab.host("host2");
  await Promise.all(hosts.map((host) => lab.waitSessionOn(host, from)));
  const probers = hosts.map((host) => new Prober(observer, host.dataAddress));
  try {
    await Promise.all(probers.map((p) => p.waitReplyAfter(Date.now() - 1000, 10_000)));
    const failedAt = Date.now();
    await fail();
    let worst = 0;
    for (const [i, host] of hosts.entries()) {
      await lab.waitSessionOn(host, to, 60_000);
      const prober = probers[i] as Prober;
      await prober.waitReplyAfter(Date.now(), 30_000);
      const seconds = (prober.longestGapAfter(failedAt) ?? 0) / 1000;
      figures.failover.push({ kind, host: host.name, seconds });
      worst = Math.max(worst, seconds);
    }
    log(
      `${kind}: ${hosts.map((h, i) => `${h.name} ${((probers[i]?.longestGapAfter(failedAt) ?? 0) / 1000).toFixed(2)} s`).join(", ")}`,
    );
    return worst;
  } finally {
    for (const p of probers) p.stop();
  }
}

/** Restarts A's agent if it is down, waits for it, and moves A's hosts home (their next remote after B is A). */
async function bringBack(lab: Lab, a: LabSwitchState, hosts: readonly LabHostState[]): Promise<void> {
  if (a.agentPid === undefined) await lab.startAgent(a);
  await lab.waitOnline(a, 60_000);
  await lab.waitBackbone();
  for (const host of hosts) {
    await lab.api.post(`/api/hosts/${host.id}/kill-session`, { nextRemote: true });
    await lab.waitSessionOn(host, a, 30_000);
  }
  await assertReachable(
    lab,
    hosts.map((host) => [lab.host("host2"), host.dataAddress] as const),
  );
}
