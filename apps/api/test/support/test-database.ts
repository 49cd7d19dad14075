import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.ts";

export type DatabaseKind = "pglite" | "postgres";

/** TEST_DATABASE_URL points at a Postgres server where tests may create and drop databases. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined;

/**
 * Runs a suite once on in-memory PGlite and once on the real Postgres server. Without
 * TEST_DATABASE_URL the Postgres run shows up as skipped, with the reason in its name.
 */
export function describeEachDatabase(name: string, suite: (kind: DatabaseKind) => void) {
  describe(`${name} [pglite]`, () => suite("pglite"));
  describe.skipIf(!testDatabaseUrl)(
    `${name} [postgres${testDatabaseUrl ? "" : ": skipped, TEST_DATABASE_URL is not set"}]`,
    () => suite("postgres"),
  );
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the TEST_DATABASE_URL server, so test files never collide. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  if (!testDatabaseUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `sb_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A migrated database of the given kind; `close()` also drops a Postgres scratch database. */
export async function openTestDatabase(kind: DatabaseKind): Promise<Database> {
  if (kind === "pglite") return openDatabase({ kind: "pglite", inMemory: true });
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
