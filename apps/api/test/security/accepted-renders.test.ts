import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { itNeeding } from "@switchboard/testkit/needs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { loadNetworkView } from "../../src/features/agents/state/network-view.ts";
import { certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import type { PkiSettings } from "../../src/features/pki/pki-settings.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { openTestAppWithDatabase } from "../support/test-app.ts";
import { type Accepted, networkCase, sendCase } from "./generated-networks.ts";
import { readyFor, runOpenvpn, writeSwitchDir } from "./openvpn-run.ts";

/**
 * Issue 13: a value the API stored but a renderer refused made the whole network unrenderable.
 * Property: for generated networks, switches, hosts and changes (plausible values mixed with the
 * hostile and edge ones, generated-networks.ts), the API answers each request 2xx or 4xx, never
 * 5xx, and everything it accepted renders: every switch's server config, backbone links, route
 * set and status (no renderError), every host's ccd file and profile. A sample of what it
 * accepted then runs under OpenVPN 2.6 itself. FC_SEED and FC_RUNS replay or widen a run.
 */
const RUNS = Number(process.env.FC_RUNS ?? 60);
const seed = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };

describe("whatever the API accepts, every renderer renders", () => {
  let app: TypedApp;
  let db: Database;
  let pki: PkiSettings;
  let api: ApiClient;

  beforeAll(async () => {
    ({ app, db, pki } = await openTestAppWithDatabase("pglite"));
    api = apiClient(app);
  });
  afterAll(() => app.close());

  /** Each answer that should have rendered and did not, as "request: status body". */
  async function renderFailures(accepted: Accepted): Promise<string[]> {
    const failures: string[] = [];
    const expect200 = async (request: string) => {
      const answer = await api.get(request);
      if (answer.status !== 200) failures.push(`${request}: ${answer.status} ${answer.text}`);
      return answer;
    };
    const switches = (await api.get(`/api/switches?networkId=${accepted.networkId}`)).body as {
      id: string;
      enabled: boolean;
    }[];
    for (const sw of switches) {
      await expect200(`/api/switches/${sw.id}/config`);
      await expect200(`/api/switches/${sw.id}/backbone`);
      await expect200(`/api/switches/${sw.id}/routes`);
      const status = await expect200(`/api/switches/${sw.id}/status`);
      if (status.body?.renderError) failures.push(`switch ${sw.id} status: ${status.body.renderError}`);
    }
    const anyEnabledSwitch = switches.some((sw) => sw.enabled);
    for (const hostId of accepted.hostIds) {
      await expect200(`/api/hosts/${hostId}/client-config`);
      const host = (await api.get(`/api/hosts/${hostId}`)).body as { enabled: boolean };
      // No profile without a switch to connect to, nor for a disabled host: refusals by design.
      if (host.enabled && anyEnabledSwitch) await expect200(`/api/hosts/${hostId}/profile`);
    }
    return failures;
  }

  it("answers 2xx or 4xx, and renders every config of what it accepted", async () => {
    const reached = { networks: 0, switches: 0, hosts: 0 };
    await fc.assert(
      fc.asyncProperty(networkCase, async (spec) => {
        const accepted = await sendCase(api, spec);
        try {
          expect(accepted.statuses.filter((s) => s.status >= 500)).toEqual([]);
          if (!accepted.networkId) return;
          reached.networks += 1;
          reached.switches += accepted.switchIds.length;
          reached.hosts += accepted.hostIds.length;
          const failures = await renderFailures(accepted);
          expect(failures, failures.join("\n")).toEqual([]);
        } finally {
          if (accepted.networkId) await api.delete(`/api/networks/${accepted.networkId}`);
        }
      }),
      { numRuns: RUNS, ...seed },
    );
    // The generators must reach the renderers often enough for the property to say anything.
    expect(reached.networks).toBeGreaterThan(RUNS / 4);
    expect(reached.switches).toBeGreaterThan(RUNS / 4);
    expect(reached.hosts).toBeGreaterThan(RUNS / 8);
  }, 600_000);

  itNeeding(
    ["root", "openvpn"],
    "runs a sample of what it accepted under OpenVPN 2.6: server, backbone ends, profile",
    async () => {
      const authority = certificateAuthority(pki);
      const results: { what: string; reached: boolean; log: string }[] = [];
      let sampled = 0;
      for (const spec of fc.sample(networkCase, { numRuns: 200, seed: 13 })) {
        if (sampled === 3) break;
        const accepted = await sendCase(api, spec);
        if (!accepted.networkId) continue;
        try {
          const view = await loadNetworkView(db.prisma, authority, accepted.networkId);
          const sw = view?.switches.find((candidate) => candidate.enabled);
          const hostId = accepted.hostIds[0];
          if (!view || !sw || hostId === undefined) continue;
          const host = (await api.get(`/api/hosts/${hostId}`)).body as { enabled: boolean };
          if (!host.enabled) continue;
          sampled += 1;
          const dir = writeSwitchDir(view.network, view.partsFor(sw.id), view.hosts);
          const profileDir = mkdtempSync("/tmp/sbov-profile-");
          try {
            const profile = await api.get(`/api/hosts/${hostId}/profile`);
            expect(profile.status, profile.text).toBe(200);
            writeFileSync(join(profileDir, "host.ovpn"), profile.text, { mode: 0o600 });
            const runs = [
              { what: `server of ${sw.id}`, path: dir.paths.serverConfig, ready: readyFor.server },
              ...dir.links.map((path) => ({ what: `backbone ${path}`, path, ready: readyFor.peer })),
              { what: `profile of ${hostId}`, path: join(profileDir, "host.ovpn"), ready: readyFor.peer },
            ];
            for (const run of runs) results.push({ what: run.what, ...(await runOpenvpn(run.path, run.ready)) });
          } finally {
            dir.cleanup();
            rmSync(profileDir, { recursive: true, force: true });
          }
        } finally {
          await api.delete(`/api/networks/${accepted.networkId}`);
        }
      }
      expect(sampled, "generated networks with an enabled switch and host").toBe(3);
      expect(results.filter((r) => !r.reached).map((r) => `${r.what}:\n${r.log}`)).toEqual([]);
    },
    600_000,
  );
});
