import { strict as assert } from "node:assert";
import { assertReachable, assertRoutesConverged, type Scenario } from "./context.ts";

/** host3's session is killed on A through the API; it moves to B, then back to A the same way. */
export const roaming: Scenario = {
  name: "roaming: a session killed on A through the API reconnects to B, reachable, no stale route",
  async run({ lab, log }) {
    const [a, b] = [lab.switch("a"), lab.switch("b")];
    const [host1, host2, host3] = [lab.host("host1"), lab.host("host2"), lab.host("host3")];
    await lab.waitSessionOn(host3, a);
    const started = Date.now();
    const killed = await lab.api.post<{ ok: boolean | null }>(`/api/hosts/${host3.id}/kill-session`, {
      nextRemote: true,
    });
    assert.equal(killed.ok, true, "switch A's agent confirmed the kill");
    await lab.waitSessionOn(host3, b);
    log(`host3 on B ${Date.now() - started} ms after the kill`);
    const sessions = (await lab.sessions()).filter((s) => s.hostId === host3.id);
    assert.equal(sessions.length, 1, `one session for host3, not ${sessions.length}`);
    await assertReachable(lab, [
      [host1, host3.dataAddress],
      [host2, host3.dataAddress],
      [host3, host1.dataAddress],
    ]);
    await assertRoutesConverged(lab, [a, b]);
    assert.ok(!lab.kernelRoutes(b).has(`${host3.dataAddress}/32`), "B holds no route for its own host3");
    assert.ok(lab.kernelRoutes(a).has(`${host3.dataAddress}/32`), "A routes host3 to B");

    // Back home for the failover scenario: the next remote after B wraps to A.
    await lab.api.post(`/api/hosts/${host3.id}/kill-session`, { nextRemote: true });
    await lab.waitSessionOn(host3, a);
    await assertRoutesConverged(lab, [a, b]);
  },
};
