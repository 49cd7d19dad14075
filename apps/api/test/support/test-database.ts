import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeNeeding } from "@switchboard/testkit/needs";
import pg from "pg";
import { describe } from "vitest";
import { type Database, DEFAULT_MIGRATIONS_DIR, openDatabase, pgliteSnapshot } from "../../src/db/database.ts";

export type DatabaseKind = "pglite" | "postgres";

/**
 * Runs a suite once on in-memory PGlite and once on the real Postgres server (TEST_DATABASE_URL,
 * where tests may create and drop databases). Without one the Postgres run is skipped, and says why.
 */
export function describeEachDatabase(name: string, suite: (kind: DatabaseKind) => void) {
  describe(`${name} [pglite]`, () => suite("pglite"));
  describeNeeding(["postgresql"], `${name} [postgres]`, () => suite("postgres"));
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_DATABASE_URL is not set");
  return url;
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the TEST_DATABASE_URL server, so test files never collide. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `sb_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A migrated PGlite, dumped once and kept in the temp folder for every test process: loading it
 * costs about a quarter of migrating a fresh one, which each test file would otherwise pay (the
 * migrator's own tests start from empty databases). The name is a hash of what shapes the dump.
 */
let snapshot: Promise<Blob> | undefined;
function migratedSnapshot(): Promise<Blob> {
  snapshot ??= (async () => {
    const hash = createHash("sha256");
    for (const entry of readdirSync(DEFAULT_MIGRATIONS_DIR, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort()) {
      hash.update(entry).update(readFileSync(entry));
    }
    hash.update(import.meta.resolve("@electric-sql/pglite"));
    for (const source of ["database.ts", "migrator.ts"]) {
      hash.update(readFileSync(fileURLToPath(new URL(`../../src/db/${source}`, import.meta.url))));
    }
    const file = join(tmpdir(), `sb-test-pglite-${hash.digest("hex").slice(0, 16)}.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch {}
    const made = await pgliteSnapshot();
    // Written aside and renamed, so a process starting meanwhile never reads half a dump.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    await writeFile(partial, Buffer.from(await made.arrayBuffer()));
    await rename(partial, file);
    return made;
  })();
  return snapshot;
}

/** A migrated database of the given kind; `close()` also drops a Postgres scratch database. */
export async function openTestDatabase(kind: DatabaseKind): Promise<Database> {
  if (kind === "pglite") return openDatabase({ kind: "pglite", inMemory: true, snapshot: await migratedSnapshot() });
  const scratch = await createScratchDatabase();
  const db = await openDatabase({ kind: "postgres", url: scratch.url });
  const close = db.close;
  return {
    ...db,
    async close() {
      await close();
      await scratch.drop();
    },
  };
}
