import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { type ServerProcess, startServer } from "@switchboard/testkit/server-process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import { openDatabase } from "../../src/db/database.ts";
import { loadOrCreateMasterKey } from "../../src/pki/index.ts";
import { apiClient, networkBody } from "../support/api-client.ts";
import { seedToken, testPki } from "../support/test-app.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/test-database.ts";
import { runCli } from "./run-cli.ts";

const PASSPHRASE = "moving to a server of its own";

/**
 * Outgrowing the embedded database (issue 15): `switchboard backup` on PGlite, then
 * `switchboard restore` with DATABASE_URL set moves everything to a PostgreSQL server, keys
 * still sealed under the same master key; the API started there serves the same hosts and
 * profiles.
 */
describeNeeding(["postgresql"], "moving from the embedded database to PostgreSQL with backup and restore", () => {
  let workDir: string;
  let scratch: ScratchDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "sb-move-"));
    scratch = await createScratchDatabase();
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    await scratch?.drop();
    await rm(workDir, { recursive: true, force: true });
  });

  it("moves networks, hosts and keys, and the server on PostgreSQL serves them unchanged", async () => {
    const embedded = { DATA_DIR: join(workDir, "embedded") };
    const masterKey = (await loadOrCreateMasterKey({ dataDir: embedded.DATA_DIR })).key;
    const db = await openDatabase({ kind: "pglite", dataDir: embedded.DATA_DIR });
    const app = await buildApp({ db, pki: testPki({ masterKey }), closeDatabaseOnClose: true });
    let token: string;
    let hostId: string;
    let hostsBefore: unknown;
    let profileBefore: string;
    try {
      token = await seedToken(db, "admin");
      const api = apiClient(app, token);
      const networkId = (await api.post("/api/networks", networkBody())).body.id;
      await api.post("/api/switches", { networkId, name: "sw-a", endpointHost: "a.example.net" });
      const hosts = Array.from({ length: 100 }, (_, i) => ({ commonName: `h-${i}` }));
      expect((await api.post("/api/hosts/import", { networkId, hosts })).status).toBe(201);
      hostsBefore = (await api.get(`/api/hosts?networkId=${networkId}&limit=500`)).body;
      hostId = (hostsBefore as { items: { id: string }[] }).items[0]?.id as string;
      const profile = await api.get(`/api/hosts/${hostId}/profile`);
      expect(profile.status, profile.text).toBe(200);
      profileBefore = profile.text;
    } finally {
      await app.close();
    }

    const file = join(workDir, "move.sbbackup");
    const backup = await runCli(["backup", file, "--include-master-key"], {
      ...embedded,
      SWITCHBOARD_BACKUP_PASSPHRASE: PASSPHRASE,
    });
    expect(backup.code, backup.stderr).toBe(0);
    const onServer = { DATA_DIR: join(workDir, "server"), DATABASE_URL: scratch.url };
    const restore = await runCli(["restore", file], onServer, `${PASSPHRASE}\n`);
    expect(restore.code, restore.stderr).toBe(0);

    server = startServer({ ...onServer, HOST: "127.0.0.1" });
    const url = await server.ready;
    const get = (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const networkId = (hostsBefore as { items: { networkId: string }[] }).items[0]?.networkId;
    expect(await (await get(`api/hosts?networkId=${networkId}&limit=500`)).json()).toEqual(hostsBefore);
    // The profile holds the host's key and certificate, opened with the same master key.
    const profile = await get(`api/hosts/${hostId}/profile`);
    expect(profile.status).toBe(200);
    const text = await profile.text();
    const keyOf = (pem: string) => /<key>[\s\S]*?<\/key>/.exec(pem)?.[0];
    expect(keyOf(text)).toBeDefined();
    expect(keyOf(text)).toBe(keyOf(profileBefore));
  }, 300_000);
});
