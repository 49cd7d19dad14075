import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { type Database, type DatabaseTarget, DEFAULT_MIGRATIONS_DIR, openDatabase } from "../../src/db/database.ts";
import { MigrationError } from "../../src/db/migrator.ts";
import { createScratchDatabase, type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

const shippedMigrations = (await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true }))
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

// Each test migrates at least one database, which takes a minute or more on a busy 2-core machine.
const SLOW = 180_000;

describeEachDatabase("migrations", (kind: DatabaseKind) => {
  let workDir: string;
  let migrationsDir: string;
  let target: DatabaseTarget;
  let dropScratch = async () => {};
  const open: Database[] = [];
  // PGlite: one database migrated per file, copied for the tests that start from a migrated one.
  let template: string | undefined;

  beforeAll(async () => {
    if (kind !== "pglite") return;
    template = await mkdtemp(join(tmpdir(), "sb-migrated-"));
    await (await openDatabase({ kind: "pglite", dataDir: template })).close();
  }, SLOW);
  afterAll(async () => {
    if (template) await rm(template, { recursive: true, force: true });
  });

  async function start(): Promise<Database> {
    const db = await openDatabase(target, { migrationsDir });
    open.push(db);
    return db;
  }
  async function stop(db: Database) {
    await db.close();
    open.splice(open.indexOf(db), 1);
  }
  /** The target as a previous start left it: every shipped migration applied. */
  async function migrated() {
    if (target.kind === "pglite" && "dataDir" in target && template) {
      await cp(template, target.dataDir, { recursive: true });
    } else {
      await stop(await start());
    }
  }

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), "sb-migrate-"));
    migrationsDir = join(workDir, "migrations");
    await cp(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
    if (kind === "pglite") {
      target = { kind: "pglite", dataDir: join(workDir, "data") };
    } else {
      const scratch = await createScratchDatabase();
      target = { kind: "postgres", url: scratch.url };
      dropScratch = scratch.drop;
    }
  }, SLOW);

  afterEach(async () => {
    for (const db of open.splice(0)) await db.close();
    await dropScratch();
    await rm(workDir, { recursive: true, force: true });
  }, SLOW);

  it(
    "gives a fresh database every migration, and a second start applies nothing",
    async () => {
      const first = await start();
      expect(first.migrations).toEqual({ applied: shippedMigrations, alreadyApplied: 0 });
      const tables = await first.prisma.$queryRaw<{ table_name: string }[]>`
      SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining([
          "Network",
          "Switch",
          "Host",
          "Certificate",
          "Session",
          "User",
          "ApiToken",
          "AuditEvent",
        ]),
      );
      await stop(first);

      const second = await start();
      expect(second.migrations).toEqual({ applied: [], alreadyApplied: shippedMigrations.length });
    },
    SLOW,
  );

  it(
    "keeps data across a restart",
    async () => {
      await migrated();
      const first = await start();
      await first.prisma.network.create({
        data: { name: "lan", dataSubnet: "10.100.100.0/24", backboneSubnet: "10.200.200.0/24" },
      });
      await stop(first);
      const second = await start();
      expect(await second.prisma.network.findUnique({ where: { name: "lan" } })).toMatchObject({
        dataSubnet: "10.100.100.0/24",
        port: 1194,
      });
    },
    SLOW,
  );

  it(
    "refuses to start when an applied migration was edited",
    async () => {
      await migrated();
      const name = shippedMigrations[0] as string;
      await writeFile(join(migrationsDir, name, "migration.sql"), "-- edited\nSELECT 1;\n");
      const failure = openDatabase(target, { migrationsDir });
      await expect(failure).rejects.toBeInstanceOf(MigrationError);
      await expect(failure).rejects.toThrow(`migration ${name} was edited after it was applied`);
    },
    SLOW,
  );

  it(
    "refuses to start when the database has a migration this build does not know",
    async () => {
      await migrated();
      const name = shippedMigrations.at(-1) as string;
      await rm(join(migrationsDir, name), { recursive: true });
      await expect(openDatabase(target, { migrationsDir })).rejects.toThrow(
        `the database has migration ${name}, which this version of Switchboard does not know`,
      );
    },
    SLOW,
  );

  it(
    "rolls a failing migration back whole and records nothing of it",
    async () => {
      await migrated();
      const broken = join(migrationsDir, "99990101000000_broken");
      await cp(join(migrationsDir, shippedMigrations[0] as string), broken, { recursive: true });
      await writeFile(
        join(broken, "migration.sql"),
        `CREATE TABLE "HalfDone" (id int);\nALTER TABLE "NoSuchTable" ADD COLUMN x int;\n`,
      );
      await expect(openDatabase(target, { migrationsDir })).rejects.toThrow(
        /migration 99990101000000_broken failed and was rolled back: .*NoSuchTable/,
      );
      await rm(broken, { recursive: true });
      const db = await start();
      const halfDone = await db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'HalfDone'`;
      expect(Number(halfDone[0]?.n)).toBe(0);
      expect(db.migrations.alreadyApplied).toBe(shippedMigrations.length);
    },
    SLOW,
  );
});
