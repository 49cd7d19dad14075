import { strict as assert } from "node:assert";
import { waitFor } from "@switchboard/testkit/wait";
import { assertReachable, assertRoutesConverged, type Scenario, tunAddressOf } from "./context.ts";

/** host2's static address changes through the API: its next connection has it; the old one is dead. */
export const changePropagation: Scenario = {
  name: "change propagation: a new static address takes effect on the next connection, the old one is unreachable",
  async run({ lab, log }) {
    const [host1, host2] = [lab.host("host1"), lab.host("host2")];
    const old = host2.dataAddress;
    const next = "10.77.0.200";
    const changed = Date.now();
    await lab.api.patch(`/api/hosts/${host2.id}`, { address: next });
    host2.dataAddress = next;
    // The switch drops host2's session when its client-config file changes; it reconnects at once.
    await waitFor(
      "host2's tunnel to carry its new address",
      async () => (await tunAddressOf(host2)) === next,
      30_000,
      100,
    );
    log(`host2 moved from ${old} to ${next} in ${Date.now() - changed} ms`);
    await assertReachable(lab, [
      [host1, next],
      [host2, host1.dataAddress],
    ]);
    assert.ok(!(await lab.ping(host1, old, 1)), `the old address ${old} no longer answers`);
    await assertRoutesConverged(lab, lab.state.switches);
    for (const sw of lab.state.switches)
      assert.ok(!lab.kernelRoutes(sw).has(`${old}/32`), `switch ${sw.name} has no route to ${old}`);
  },
};
