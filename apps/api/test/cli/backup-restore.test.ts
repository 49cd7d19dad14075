import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/app.ts";
import { packArchive, unpackArchive } from "../../src/cli/backup/archive.ts";
import {
  checkMasterKeyOpens,
  checkSchemaVersion,
  restoreDatabase,
  snapshotDatabase,
} from "../../src/cli/backup/backup-database.ts";
import { readTar, writeTar } from "../../src/cli/backup/tar.ts";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { apiClient, networkBody } from "../support/api-client.ts";
import { defaultTokens, openTestAppWithDatabase, testPki } from "../support/test-app.ts";
import { describeEachDatabase, openTestDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

const HOSTS = 1000;
/** Past 2^53: a value that any trip through a JavaScript number would round. */
const HUGE = 2n ** 62n + 7n;

/** Every item of a paged list, in the API's order. */
async function everything(api: ReturnType<typeof apiClient>, path: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const response = await api.get(`${path}${separator}limit=500${cursor ? `&cursor=${cursor}` : ""}`);
    expect(response.status, `${path}: ${response.text}`).toBe(200);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor);
  return items;
}

/**
 * What an operator sees: the lists, the CRL, profiles (which need the master key to open sealed
 * keys). The audit log is compared on its own: each profile download adds a row to it.
 */
async function served(app: TypedApp, networkId: string, hostIds: string[]) {
  const api = apiClient(app);
  const get = async (path: string) => {
    const response = await api.get(path);
    expect(response.status, `${path}: ${response.text}`).toBe(200);
    return response.text;
  };
  return {
    networks: await get("/api/networks"),
    switches: await get(`/api/switches?networkId=${networkId}`),
    hosts: await everything(api, `/api/hosts?networkId=${networkId}`),
    certificates: await everything(api, `/api/certificates?networkId=${networkId}`),
    crl: await get(`/api/networks/${networkId}/crl`),
    profiles: [await get(`/api/hosts/${hostIds[0]}/profile`), await get(`/api/hosts/${hostIds[1]}/profile`)],
  };
}

describeEachDatabase("backup and restore", (kind) => {
  const pki = testPki();
  let source: Awaited<ReturnType<typeof openTestAppWithDatabase>>;
  let networkId: string;
  let hostIds: string[];
  let before: Awaited<ReturnType<typeof served>>;

  beforeAll(async () => {
    source = await openTestAppWithDatabase(kind, pki);
    const api = apiClient(source.app);
    const network = await api.post("/api/networks", networkBody({ dataSubnet: "10.60.0.0/20" }));
    networkId = network.body.id;
    for (const name of ["sw-a", "sw-b", "sw-c"]) {
      const created = await api.post("/api/switches", { networkId, name, endpointHost: `${name}.example.net` });
      expect(created.status, created.text).toBe(201);
    }
    const hosts = Array.from({ length: HOSTS }, (_, i) => ({ commonName: `host-${i}`, tags: [`t${i % 7}`] }));
    const imported = await api.post("/api/hosts/import", { networkId, hosts });
    expect(imported.status, imported.text).toBe(201);
    hostIds = imported.body.hosts.map((h: { id: string }) => h.id);
    for (const id of hostIds.slice(0, 3)) {
      const issued = await api.post(`/api/hosts/${id}/certificate`, {});
      expect(issued.status, issued.text).toBe(201);
    }
    const third = await api.get(`/api/certificates?hostId=${hostIds[2]}`);
    const revoked = await api.post(`/api/certificates/${third.body.items[0].id}/revoke`, { reason: "keyCompromise" });
    expect(revoked.status, revoked.text).toBe(200);
    const switches = await source.db.prisma.switch.findMany();
    await source.db.prisma.session.create({
      data: {
        hostId: hostIds[0] as string,
        switchId: switches[0]?.id as string,
        realAddress: "198.51.100.7:1194",
        connectedAt: new Date("2026-01-02T03:04:05.678Z"),
        disconnectedAt: new Date("2026-01-02T04:04:05.678Z"),
        bytesIn: HUGE,
        bytesOut: HUGE + 1n,
        clientId: 9,
        endReason: "test",
      },
    });
    before = await served(source.app, networkId, hostIds);
    expect(before.hosts).toHaveLength(HOSTS);
  }, 600_000);

  afterAll(async () => {
    await source?.app.close();
  });

  async function archiveOfSource(passphrase?: string, masterKey?: Buffer) {
    const contents = await snapshotDatabase(source.db);
    if (masterKey) {
      contents.masterKey = masterKey;
      contents.manifest.masterKey = true;
    }
    return packArchive(contents, passphrase);
  }

  it("restores into a fresh database that then serves the same lists, CRL, profiles and audit log", async () => {
    const auditAtBackup = await everything(apiClient(source.app), "/api/audit");
    expect(auditAtBackup.length).toBeGreaterThan(5);
    const archive = await archiveOfSource();
    const contents = await unpackArchive(archive);
    expect(contents.manifest.tables.find((t) => t.name === "Host")?.rows).toBe(HOSTS);
    expect(checkMasterKeyOpens(contents, pki.masterKey)).toBeGreaterThan(5);
    const target: Database = await openTestDatabase(kind);
    await restoreDatabase(target, contents, { force: false });
    const restored = await buildApp({ db: target, pki, closeDatabaseOnClose: true });
    try {
      // The admin token came with the rows: the same token works against the restored copy.
      defaultTokens.set(restored, source.adminToken);
      expect(await everything(apiClient(restored), "/api/audit")).toEqual(auditAtBackup);
      expect(await served(restored, networkId, hostIds)).toEqual(before);
      const session = await target.prisma.session.findFirstOrThrow({ where: { clientId: 9 } });
      expect(session.bytesIn).toBe(HUGE);
      expect(session.bytesOut).toBe(HUGE + 1n);
      expect(session.connectedAt.toISOString()).toBe("2026-01-02T03:04:05.678Z");
      const sealed = await target.prisma.certificate.findFirstOrThrow({ where: { kind: "ca" } });
      const original = await source.db.prisma.certificate.findFirstOrThrow({ where: { kind: "ca" } });
      expect(Buffer.from(sealed.keySealed as Uint8Array).equals(Buffer.from(original.keySealed as Uint8Array))).toBe(
        true,
      );
      // The audit sequence continues after the restored rows instead of colliding with them.
      const newest = await target.prisma.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
      const created = await apiClient(restored).post("/api/networks", networkBody());
      expect(created.status, created.text).toBe(201);
      const after = await target.prisma.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
      expect(after.id).toBeGreaterThan(newest.id);
    } finally {
      await restored.close();
    }
  }, 600_000);

  it("refuses an archive whose table was altered, naming the table", async () => {
    const entries = readTar(gunzipSync(await archiveOfSource()));
    const hosts = entries.find((e) => e.name === "tables/Host.jsonl");
    if (!hosts) throw new Error("no Host table in the archive");
    hosts.data = Buffer.from(hosts.data.toString("utf8").replace("host-5", "host-X"));
    await expect(unpackArchive(gzipSync(writeTar(entries)))).rejects.toThrow(
      /tables\/Host\.jsonl does not match its checksum/,
    );
  }, 120_000);

  it("refuses an archive from a newer schema, and from an older one", async () => {
    const { manifest } = await unpackArchive(await archiveOfSource());
    const own = [manifest.schemaVersion];
    expect(() => checkSchemaVersion({ ...manifest, schemaVersion: "29991231000000_future" }, own)).toThrow(
      /newer than this build's/,
    );
    expect(() => checkSchemaVersion(manifest, [...own, "29991231000000_future"])).toThrow(/older schema/);
    expect(() => checkSchemaVersion(manifest, own)).not.toThrow();
  }, 120_000);

  it("refuses a master key that does not open the archive's sealed keys", async () => {
    const contents = await unpackArchive(await archiveOfSource());
    expect(() => checkMasterKeyOpens(contents, testPki().masterKey)).toThrow(/master key does not open/);
  }, 120_000);

  it("refuses a non-empty database unless forced, and changes nothing when it refuses", async () => {
    const contents = await unpackArchive(await archiveOfSource());
    const target = await openTestDatabase(kind);
    try {
      await target.prisma.user.create({ data: { username: "someone", passwordHash: "x", role: "viewer" } });
      await expect(restoreDatabase(target, contents, { force: false })).rejects.toThrow(/not empty \(rows in User\)/);
      expect(await target.prisma.host.count()).toBe(0);
      expect(await target.prisma.user.count()).toBe(1);
      await restoreDatabase(target, contents, { force: true });
      expect(await target.prisma.host.count()).toBe(HOSTS);
      expect(await target.prisma.user.findUnique({ where: { username: "someone" } })).toBeNull();
    } finally {
      await target.close();
    }
  }, 600_000);

  it("encrypts an archive that holds the master key and opens it only with the passphrase", async () => {
    const archive = await archiveOfSource("correct horse battery", pki.masterKey);
    expect(archive.includes(Buffer.from("manifest.json"))).toBe(false);
    await expect(unpackArchive(archive)).rejects.toThrow(/encrypted/);
    await expect(unpackArchive(archive, "wrong horse battery")).rejects.toThrow(/wrong passphrase/);
    const contents = await unpackArchive(archive, "correct horse battery");
    expect(contents.masterKey?.equals(pki.masterKey)).toBe(true);
    await expect(packArchive({ ...contents }, undefined)).rejects.toThrow(/must be encrypted/);
  }, 120_000);

  it("takes one snapshot while the API keeps writing: every host in it has its audit row, and no audit row lacks its host", async () => {
    // Host and AuditEvent are written in one transaction; the backup reads AuditEvent before Host.
    // Read at different moments (READ COMMITTED), hosts created in between would have no audit row.
    const api = apiClient(source.app);
    let writing = true;
    let created = 0;
    const writer = (async () => {
      while (writing) {
        const response = await api.post("/api/hosts", { networkId, commonName: `live-${created}` });
        expect(response.status, response.text).toBe(201);
        created += 1;
      }
    })();
    try {
      await vi.waitFor(() => expect(created).toBeGreaterThan(0), patiently);
      const contents = await snapshotDatabase(source.db, () => {});
      const names = (table: string, pick: (row: Record<string, unknown>) => unknown) =>
        (contents.tables.get(table) ?? [])
          .map((line) => pick(JSON.parse(line)))
          .filter((n) => String(n).startsWith("live-"));
      const hosts = names("Host", (row) => row.commonName).sort();
      const audited = names("AuditEvent", (row) =>
        row.action === "host.create" ? (row.summary as { after: { commonName: string } }).after.commonName : "",
      ).sort();
      expect(hosts.length).toBeGreaterThan(0);
      expect(audited).toEqual(hosts);
    } finally {
      writing = false;
      await writer;
    }
  }, 300_000);
});

describe("archive format", () => {
  it("is a tar that lists manifest.json first", () => {
    const tar = writeTar([{ name: "manifest.json", data: Buffer.from("{}") }]);
    expect(readTar(tar).map((e) => e.name)).toEqual(["manifest.json"]);
  });
});
