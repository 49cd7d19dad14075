import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "@switchboard/testkit/wait";
import { OPENVPN } from "../lab.ts";
import { spawnInNetns, stopPid } from "../system.ts";
import { assertReachable, type Scenario } from "./context.ts";

/**
 * host4's certificate is revoked: its session drops at once, and it cannot connect to any
 * switch any more. Its client would only reach the next switch after the TLS hand-window
 * (60 s), so the test tries every switch at once with one client each, from host4's own
 * profile narrowed to that switch's `remote` line.
 */
export const revocation: Scenario = {
  name: "revocation: a revoked host's session drops and no switch accepts it any more",
  async run({ lab, log }) {
    const host4 = lab.host("host4");
    const host1 = lab.host("host1");
    await waitFor("host4 online", async () => (await lab.sessions()).some((s) => s.hostId === host4.id), 30_000, 100);
    await assertReachable(lab, [[host1, host4.dataAddress]]);
    const certs = await lab.api.get<{ items: { id: string; revokedAt: string | null }[] }>(
      `/api/certificates?hostId=${host4.id}`,
    );
    const live = certs.items.filter((c) => c.revokedAt === null);
    assert.equal(live.length, 1, "host4 has one live certificate");
    await lab.api.post(`/api/certificates/${live[0]?.id}/revoke`, { reason: "keyCompromise" });
    const revokedAt = Date.now();
    try {
      await waitFor(
        "host4's session to end",
        async () => !(await lab.sessions()).some((s) => s.hostId === host4.id),
        15_000,
        100,
      );
    } catch (error) {
      // What each switch had applied tells whether the CRL or the kick was late.
      const statuses = await Promise.all(
        lab.state.switches.map(async (sw) => ({
          sw: sw.name,
          ...(await lab.api.get<object>(`/api/switches/${sw.id}/status`)),
        })),
      );
      throw new Error(`${(error as Error).message}; switches: ${JSON.stringify(statuses)}`);
    }
    log(`host4's session ended ${Date.now() - revokedAt} ms after the revocation`);
    assert.ok(!(await lab.ping(host1, host4.dataAddress, 1)), "host4 no longer answers");
    await lab.stopHost(host4);

    const profile = readFileSync(join(host4.dir, "profile.ovpn"), "utf8");
    const tries = lab.state.switches.map((sw) => {
      const path = join(host4.dir, `only-${sw.name}.ovpn`);
      const lines = profile
        .split("\n")
        .filter((line) => !line.startsWith("remote ") || line.startsWith(`remote ${sw.uplink} `));
      writeFileSync(path, lines.join("\n"), { mode: 0o600 });
      const logFile = join(host4.dir, `only-${sw.name}.log`);
      const switchLogFrom = readFileSync(lab.agentLog(sw), "utf8").length;
      const pid = spawnInNetns(host4.netns, [OPENVPN, "--config", path], logFile, process.env, host4.dir);
      return { sw, pid, logFile, switchLogFrom };
    });
    try {
      // Each switch refused the certificate, dropped that client instance (the TLS session is
      // over: it cannot complete any more), and then polled its sessions twice, so a session
      // would have been reported: only then does an absence below mean anything.
      const settled = (t: (typeof tries)[number]) => {
        const log = readFileSync(lab.agentLog(t.sw), "utf8").slice(t.switchLogFrom);
        const refused = log.search(/certificate revoked/);
        if (refused < 0) return false;
        const dropped = log.slice(refused).search(/client-instance restarting/);
        if (dropped < 0) return false;
        return (log.slice(refused + dropped).match(/MANAGEMENT: CMD 'status/g) ?? []).length >= 2;
      };
      await waitFor(
        "every switch to refuse host4's certificate and drop its try",
        () => tries.every(settled),
        30_000,
        100,
      );
      for (const t of tries) {
        assert.ok(
          !readFileSync(t.logFile, "utf8").includes("Initialization Sequence Completed"),
          `switch ${t.sw.name} let host4 in`,
        );
      }
      assert.ok(!(await lab.sessions()).some((s) => s.hostId === host4.id), "host4 has no session anywhere");
      log(`switches ${tries.map((t) => t.sw.name).join(", ")} all refused host4: certificate revoked`);
    } finally {
      await Promise.all(tries.map((t) => stopPid(t.pid)));
    }
  },
};
