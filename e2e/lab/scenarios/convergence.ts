import { strict as assert } from "node:assert";
import { median } from "@switchboard/testkit/stats";
import { waitFor } from "@switchboard/testkit/wait";
import { Prober } from "../probe.ts";
import type { Scenario } from "./context.ts";

const CONNECTS = 30;

/**
 * host2 (on B) is made to reconnect again and again (kill-session through the API: B sends it
 * RESTART, it reconnects with a new TLS handshake) while pinging host1 (on A) 100 times a
 * second. Each time B reports the disconnect and the connect, so A must withdraw and then
 * learn host2's route anew (B reports, the API computes, A installs the /32): the time from
 * the tunnel coming up to the first answer is the convergence.
 */
export const convergence: Scenario = {
  name: `convergence over ${CONNECTS} connects: tunnel up -> first answer from a host on the other switch`,
  async run({ lab, figures, log }) {
    const [a, b] = [lab.switch("a"), lab.switch("b")];
    const [host1, host2] = [lab.host("host1"), lab.host("host2")];
    await lab.waitSessionOn(host1, a);
    await lab.waitSessionOn(host2, b);
    const prober = new Prober(host2, host1.dataAddress);
    try {
      for (let i = 0; i < CONNECTS; i++) {
        await lab.waitSessionOn(host2, b);
        const from = lab.logSize(host2);
        const killed = await lab.api.post<{ ok: boolean | null }>(`/api/hosts/${host2.id}/kill-session`, {});
        assert.equal(killed.ok, true, "switch B's agent confirmed the kill");
        // Answers before the client logged the reset came through the old session: not counted.
        const down = await waitFor(
          "host2's tunnel to go down",
          () => lab.logSince(host2, from).includes("connection-reset") && Date.now(),
          10_000,
          5,
        );
        const up = await lab.waitTunnelUp(host2, from, 30_000);
        const answered = await prober.waitReplyAfter(down, 10_000);
        figures.convergenceMs.push(Math.max(0, answered - up));
      }
    } finally {
      prober.stop();
    }
    const samples = figures.convergenceMs;
    log(
      `convergence over ${samples.length} connects: min ${Math.min(...samples)} ms, median ${median(samples)} ms, max ${Math.max(...samples)} ms`,
    );
  },
};
