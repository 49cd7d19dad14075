import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SqlSession } from "./sql-session.ts";

/** Any constant shared by every Switchboard instance; only migrations take this lock. */
const MIGRATION_LOCK_KEY = 0x5b_0a_2d_01;

export class MigrationError extends Error {
  override name = "MigrationError";
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/** Reads prisma/migrations/<name>/migration.sql, ordered by folder name (they start with a timestamp). */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: checksumOf(sql) };
    }),
  );
}

/** Line endings do not count: a checkout with CRLF must not look like an edited migration. */
export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex");
}

/**
 * Applies pending migrations in order. A session-level advisory lock makes instances that start
 * together wait for each other; each migration runs in its own transaction together with the row
 * that records it, so a failed one leaves nothing behind. An applied migration whose file changed,
 * or one the database has but this build lacks, stops start-up: both mean the code and the
 * database disagree about the schema.
 */
export async function migrate(session: SqlSession, migrations: Migration[]): Promise<MigrationResult> {
  await session.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    await session.exec(`CREATE TABLE IF NOT EXISTS "_switchboard_migrations" (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await session.query<{ name: string; checksum: string }>(
      `SELECT name, checksum FROM "_switchboard_migrations" ORDER BY name`,
    );
    const known = new Map(migrations.map((m) => [m.name, m]));
    for (const row of rows) {
      const migration = known.get(row.name);
      if (!migration) {
        throw new MigrationError(
          `the database has migration ${row.name}, which this version of Switchboard does not know: run a version at least as new as the one that applied it`,
        );
      }
      if (migration.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${row.name} was edited after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${migration.checksum.slice(0, 12)} on disk): restore the original file and put the change in a new migration`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.name));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await applyOne(session, migration);
      applied.push(migration.name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await session.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  await session.exec("BEGIN");
  try {
    await session.exec(migration.sql);
    await session.query(`INSERT INTO "_switchboard_migrations" (name, checksum) VALUES ($1, $2)`, [
      migration.name,
      migration.checksum,
    ]);
    await session.exec("COMMIT");
  } catch (error) {
    await session.exec("ROLLBACK");
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${reason}`);
  }
}
