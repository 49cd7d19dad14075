import { strict as assert } from "node:assert";
import { waitFor } from "@switchboard/testkit/wait";
import type { Lab } from "../lab.ts";
import type { LabHostState, LabSwitchState } from "../state.ts";
import { inNetns } from "../system.ts";

export interface Figures {
  /** Tunnel up -> first answer from a host on another switch, ms, one per connect. */
  convergenceMs: number[];
  /** Outage per host and failure kind, seconds. */
  failover: { kind: string; host: string; seconds: number }[];
  /** ping-restart + server-poll-timeout + 3 s of the lab network, capped at 20 s. */
  failoverTargetS?: number;
}

export interface ScenarioContext {
  lab: Lab;
  figures: Figures;
  log(line: string): void;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

/** Every pair answers ICMP within a few seconds (routes may still be settling). */
export async function assertReachable(
  lab: Lab,
  pairs: readonly (readonly [LabHostState | LabSwitchState, string])[],
  timeoutMs = 10_000,
) {
  await Promise.all(
    pairs.map(([from, to]) => waitFor(`${from.name} to reach ${to}`, () => lab.ping(from, to, 1), timeoutMs, 100)),
  );
}

/**
 * No stale route anywhere: each switch's kernel holds exactly what the API computes for it (its
 * switchboard-protocol routes), and the API says the agent applied all of it.
 */
export async function assertRoutesConverged(lab: Lab, switches: readonly LabSwitchState[], timeoutMs = 10_000) {
  let last = "";
  try {
    await waitFor(
      "every switch's kernel routes to match the API's",
      async () => {
        for (const sw of switches) {
          const view = await lab.api.get<{ desired: { destination: string; via: string }[] }>(
            `/api/switches/${sw.id}/routes`,
          );
          const desired = new Map(view.desired.map((r) => [r.destination, r.via]));
          const kernel = lab.kernelRoutes(sw);
          const same = desired.size === kernel.size && [...desired].every(([dst, via]) => kernel.get(dst) === via);
          if (!same) {
            last = `switch ${sw.name}: API ${JSON.stringify([...desired])}, kernel ${JSON.stringify([...kernel])}`;
            return false;
          }
        }
        return true;
      },
      timeoutMs,
      200,
    );
  } catch {
    assert.fail(`routes did not converge: ${last}`);
  }
}

/** The host's tun device carries exactly this address. */
export async function tunAddressOf(host: LabHostState): Promise<string | undefined> {
  const out = (await inNetns(host.netns, "ip", ["-4", "-o", "addr", "show"])).stdout;
  for (const line of out.split("\n")) {
    const match = /^\d+: (\S+)\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (match && match[1] !== "lo" && match[1] !== "eth0") return match[2];
  }
  return undefined;
}
