import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, startServer } from "@switchboard/testkit/server-process";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import { packArchive, unpackArchive } from "../../src/cli/backup/archive.ts";
import { type DatabaseTarget, openDatabase } from "../../src/db/database.ts";
import { loadOrCreateMasterKey } from "../../src/pki/index.ts";
import { apiClient, networkBody } from "../support/api-client.ts";
import { seedToken, testPki } from "../support/test-app.ts";
import { createScratchDatabase, describeEachDatabase, type ScratchDatabase } from "../support/test-database.ts";
import { type CliRun, runCli } from "./run-cli.ts";

const PASSPHRASE = "a passphrase of some length";

let workDir: string;
const scratches: ScratchDatabase[] = [];
const servers: ServerProcess[] = [];
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "sb-cli-backup-"));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop("SIGKILL");
});
afterAll(async () => {
  for (const scratch of scratches) await scratch.drop();
  await rm(workDir, { recursive: true, force: true });
});

function expectFailure(run: CliRun, expected: RegExp) {
  expect(run.code, run.stdout).toBe(1);
  expect(run.stderr).toMatch(/^switchboard: /);
  expect(run.stderr).toMatch(expected);
}

describeEachDatabase("switchboard backup and restore as commands", (kind) => {
  /** An installation: its DATA_DIR (master key, and the database on PGlite) and, on PostgreSQL, DATABASE_URL. */
  async function installation(name: string): Promise<Record<string, string>> {
    const env: Record<string, string> = { DATA_DIR: join(workDir, `${kind}-${name}`) };
    if (kind === "postgres") {
      const scratch = await createScratchDatabase();
      scratches.push(scratch);
      env.DATABASE_URL = scratch.url;
    }
    return env;
  }
  const targetOf = (env: Record<string, string>): DatabaseTarget =>
    env.DATABASE_URL
      ? { kind: "postgres", url: env.DATABASE_URL }
      : { kind: "pglite", dataDir: env.DATA_DIR as string };
  async function hostCount(env: Record<string, string>) {
    const db = await openDatabase(targetOf(env));
    try {
      return await db.prisma.host.count();
    } finally {
      await db.close();
    }
  }

  let source: Record<string, string>;
  let token: string;
  let networkId: string;
  let hostsBefore: unknown;
  let plainFile: string;
  let keyFile: string;
  let masterKey: Buffer;

  beforeAll(async () => {
    source = await installation("source");
    masterKey = (await loadOrCreateMasterKey({ dataDir: source.DATA_DIR as string })).key;
    const db = await openDatabase(targetOf(source));
    const app = await buildApp({ db, pki: testPki({ masterKey }), closeDatabaseOnClose: true });
    try {
      token = await seedToken(db, "admin");
      const api = apiClient(app, token);
      networkId = (await api.post("/api/networks", networkBody())).body.id;
      await api.post("/api/switches", { networkId, name: "sw-a", endpointHost: "a.example.net" });
      const hosts = Array.from({ length: 40 }, (_, i) => ({ commonName: `h-${i}` }));
      expect((await api.post("/api/hosts/import", { networkId, hosts })).status).toBe(201);
      hostsBefore = (await api.get(`/api/hosts?networkId=${networkId}&limit=500`)).body;
    } finally {
      await app.close();
    }
    plainFile = join(workDir, `${kind}-plain.sbbackup`);
    keyFile = join(workDir, `${kind}-with-key.sbbackup`);
  }, 300_000);

  it("writes a backup with progress lines, and never over an existing file", async () => {
    const run = await runCli(["backup", plainFile], source);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/ {2}Host: 40 rows/);
    expect(run.stdout).toMatch(/the master key is NOT inside/);
    expect(await readFile(plainFile).then((b) => b.includes(masterKey.toString("base64")))).toBe(false);
    expectFailure(await runCli(["backup", plainFile], source), /already exists/);
    const withKey = await runCli(["backup", keyFile, "--include-master-key"], {
      ...source,
      SWITCHBOARD_BACKUP_PASSPHRASE: PASSPHRASE,
    });
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(withKey.stdout).toMatch(/the master key is inside, encrypted/);
  }, 300_000);

  it("restores the archive with its master key into a fresh installation whose server then serves the same hosts", async () => {
    const target = await installation("fresh");
    const run = await runCli(["restore", keyFile], target, `${PASSPHRASE}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/checksums match/);
    expect(run.stdout).toMatch(/the master key opens all \d+ sealed keys/);
    expect((await loadOrCreateMasterKey({ dataDir: target.DATA_DIR as string })).key.equals(masterKey)).toBe(true);
    const server = startServer({ ...target, HOST: "127.0.0.1" });
    servers.push(server);
    const url = await server.ready;
    const response = await fetch(`${url}api/hosts?networkId=${networkId}&limit=500`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(hostsBefore);
    const crl = await fetch(`${url}api/networks/${networkId}/crl`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(crl.status).toBe(200);
    if (kind === "pglite") {
      // The server holds the embedded database: the backup says to stop it instead of waiting or corrupting.
      const busy = await runCli(["backup", join(workDir, "while-serving.sbbackup")], target);
      expectFailure(busy, /in use by another Switchboard \(pid \d+\): stop the service for the backup/);
    }
    await server.stop();

    // Now it holds rows: a second restore is refused without --force, and changes nothing.
    expectFailure(await runCli(["restore", plainFile], target), /target database is not empty \(rows in /);
    expect(await hostCount(target)).toBe(40);
  }, 300_000);

  it("refuses a wrong master key before it replaces anything, even with --force", async () => {
    const target = await installation("wrong-key");
    const wrongKey = randomBytes(32).toString("hex");
    const db = await openDatabase(targetOf(target));
    await db.prisma.user.create({ data: { username: "keep-me", passwordHash: "x", role: "viewer" } });
    await db.close();
    const run = await runCli(["restore", plainFile, "--force"], { ...target, SWITCHBOARD_MASTER_KEY: wrongKey });
    expectFailure(run, /master key does not open/);
    const after = await openDatabase(targetOf(target));
    try {
      expect(await after.prisma.user.findUnique({ where: { username: "keep-me" } })).not.toBeNull();
      expect(await after.prisma.host.count()).toBe(0);
    } finally {
      await after.close();
    }
    expectFailure(
      await runCli(["restore", plainFile], await installation("no-key")),
      /holds no master key and this installation has none/,
    );
  }, 300_000);

  it("writes the archive's master key only once the target passed every check", async () => {
    const target = await installation("occupied");
    const db = await openDatabase(targetOf(target));
    await db.prisma.user.create({ data: { username: "keep-me", passwordHash: "x", role: "viewer" } });
    await db.close();
    expectFailure(await runCli(["restore", keyFile], target, `${PASSPHRASE}\n`), /target database is not empty/);
    expect(existsSync(join(target.DATA_DIR as string, "master.key"))).toBe(false);
  }, 300_000);

  it("refuses a tampered archive, a newer schema and a wrong passphrase", async () => {
    const target = { ...(await installation("refusals")), SWITCHBOARD_MASTER_KEY: masterKey.toString("hex") };
    const bytes = await readFile(plainFile);
    const contents = await unpackArchive(bytes);
    const tampered = join(workDir, `${kind}-tampered.sbbackup`);
    const hostLines = contents.tables.get("Host") ?? [];
    hostLines[0] = (hostLines[0] as string).replace('"h-', '"x-');
    // Repacked with the manifest's old checksums: the altered table no longer matches.
    await writeFile(tampered, await packArchive(contents));
    expectFailure(await runCli(["restore", tampered], target), /tables\/Host\.jsonl does not match its checksum/);

    const future = await unpackArchive(bytes);
    future.manifest.schemaVersion = "29991231235959_from_the_future";
    const futureFile = join(workDir, `${kind}-future.sbbackup`);
    await writeFile(futureFile, await packArchive(future));
    expectFailure(await runCli(["restore", futureFile], target), /newer than this build's/);

    expectFailure(await runCli(["restore", keyFile], target, "not the passphrase\n"), /wrong passphrase/);
    expect(await hostCount(target)).toBe(0);
  }, 300_000);
});
