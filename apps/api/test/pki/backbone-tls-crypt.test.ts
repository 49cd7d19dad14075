import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { loadNetworkView } from "../../src/features/agents/state/network-view.ts";
import { addMissingBackboneKeys } from "../../src/features/pki/backbone-tls-crypt.ts";
import { type CertificateAuthority, certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestAppWithDatabase } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

/**
 * The backbone links have their own tls-crypt key: the data servers' key is in every host
 * profile, so with one shared key any host (or former host) could start a handshake with a
 * switch's link end. The OpenVPN side of that attack is in packages/shared openvpn.test.ts.
 */

const keyBody = (key: string) => /-----BEGIN OpenVPN Static key V1-----\n([0-9a-f\n]+)-----END/.exec(key)?.[1] ?? "";

describeEachDatabase("the backbone links' tls-crypt key", (kind: DatabaseKind) => {
  let app: TypedApp;
  let db: Database;
  let api: ApiClient;
  let authority: CertificateAuthority;
  let net: { id: string };
  let switchId: string;
  let hostId: string;

  beforeAll(async () => {
    const opened = await openTestAppWithDatabase(kind);
    ({ app, db } = opened);
    authority = certificateAuthority(opened.pki);
    api = apiClient(app);
    net = (await api.post("/api/networks", networkBody({ dataSubnet: "10.91.0.0/24" }))).body;
    for (const [name, dataAddress] of [
      ["a", "10.91.0.1"],
      ["b", "10.91.0.2"],
    ]) {
      const sw = await api.post("/api/switches", {
        networkId: net.id,
        name,
        endpointHost: `${name}.example`,
        dataAddress,
      });
      expect(sw.status).toBe(201);
      if (name === "a") switchId = sw.body.id;
    }
    hostId = (await api.post("/api/hosts", { networkId: net.id, commonName: "laptop" })).body.id;
  });
  afterAll(() => app.close());

  const switchFiles = async () => {
    const view = await loadNetworkView(db.prisma, authority, net.id);
    return view?.partsFor(switchId) as NonNullable<ReturnType<NonNullable<typeof view>["partsFor"]>>;
  };
  const profileKey = async () =>
    /<tls-crypt>\n([\s\S]*?)<\/tls-crypt>/.exec((await api.get(`/api/hosts/${hostId}/profile`)).text)?.[1] ?? "";

  it("is made with the network, sealed, differs from the hosts' key and is in no profile", async () => {
    const parts = await switchFiles();
    expect(keyBody(parts.server.backboneTlsCryptKey)).toHaveLength(16 * 33);
    expect(keyBody(parts.server.backboneTlsCryptKey)).not.toBe(keyBody(parts.server.tlsCryptKey));
    const profile = await profileKey();
    expect(keyBody(profile)).toBe(keyBody(parts.server.tlsCryptKey));
    expect(profile).not.toContain(keyBody(parts.server.backboneTlsCryptKey).slice(0, 64));
    const row = await db.prisma.network.findUniqueOrThrow({ where: { id: net.id } });
    expect(Buffer.from(row.backboneTlsCryptKeySealed as Uint8Array).toString("latin1")).not.toContain("Static key");
  });

  it("is what every backbone link config of the switch names; the data server names the hosts' key", async () => {
    const parts = await switchFiles();
    expect(parts.links).toHaveLength(1);
    for (const link of parts.links) {
      expect(link.config).toMatch(/^tls-crypt \/var\/lib\/switchboard-agent\/[0-9a-z]{5}\/backbone-tls-crypt\.key$/m);
    }
    expect(parts.server.serverConfig).toMatch(
      /^tls-crypt \/var\/lib\/switchboard-agent\/[0-9a-z]{5}\/tls-crypt\.key$/m,
    );
  });

  it("is given, at start, to a network from before it, once, with a new revision so its switches get it", async () => {
    await db.prisma.network.update({ where: { id: net.id }, data: { backboneTlsCryptKeySealed: null } });
    const before = await db.prisma.network.findUniqueOrThrow({ where: { id: net.id } });
    await expect(switchFiles()).rejects.toThrow(/no backbone tls-crypt key/);

    await addMissingBackboneKeys(db.prisma, authority, app.log);
    const added = await db.prisma.network.findUniqueOrThrow({ where: { id: net.id } });
    expect(added.revision).toBe(before.revision + 1);
    expect(authority.backboneTlsCryptKeyOf(added)).toMatch(/BEGIN OpenVPN Static key V1/);

    // A second instance starting at the same time, or the next start: nothing changes.
    await addMissingBackboneKeys(db.prisma, authority, app.log);
    const again = await db.prisma.network.findUniqueOrThrow({ where: { id: net.id } });
    expect(again.revision).toBe(added.revision);
    expect(authority.backboneTlsCryptKeyOf(again)).toBe(authority.backboneTlsCryptKeyOf(added));
  });

  it("is rotated with the hosts' key", async () => {
    const before = await switchFiles();
    expect((await api.post(`/api/networks/${net.id}/tls-crypt/rotate`, {})).status).toBe(204);
    const after = await switchFiles();
    expect(after.server.backboneTlsCryptKey).not.toBe(before.server.backboneTlsCryptKey);
    expect(after.server.tlsCryptKey).not.toBe(before.server.tlsCryptKey);
  });
});
