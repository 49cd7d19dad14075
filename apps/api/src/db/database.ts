import { access, constants, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { describeDatabaseUrl } from "../config.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { errorCode, StartupError } from "../startup-error.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { type MigrationResult, migrate, readMigrations } from "./migrator.ts";
import { type Listen, pgliteListen, postgresListen } from "./notifications.ts";
import { pgliteAdapter } from "./pglite-bytes-fix.ts";
import { type SqlReader, type Statement, statementName } from "./sql-reader.ts";
import type { SqlSession } from "./sql-session.ts";

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../../../prisma/migrations", import.meta.url));

export type DatabaseTarget =
  | { kind: "postgres"; url: string }
  | { kind: "pglite"; dataDir: string }
  /** `snapshot`: a dump of a migrated database (`pgliteSnapshot`) to start from instead of an empty one. */
  | { kind: "pglite"; inMemory: true; snapshot?: Blob };

export interface Database {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** Plain SQL reads on the same connections as `prisma`. */
  sql: SqlReader;
  migrations: MigrationResult;
  /** LISTEN on a channel of its own connection, reopened when dropped (db/notifications.ts). */
  listen: Listen;
  /** Round trip to the database; rejects when it does not answer within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  migrationsDir?: string;
}

/** Opens the database, applies pending migrations, and returns a Prisma client on it. */
export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  const migrations = await readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  return target.kind === "postgres" ? openPostgres(target.url, migrations) : openPglite(target, migrations);
}

async function openPostgres(url: string, migrations: Awaited<ReturnType<typeof readMigrations>>): Promise<Database> {
  const where = describeDatabaseUrl(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new StartupError(`cannot connect to PostgreSQL at ${where}: ${explainPgError(error)}; check DATABASE_URL`);
  }
  let result: MigrationResult;
  try {
    result = await migrate(pgSession(client), migrations);
  } finally {
    await client.end().catch(() => {});
  }
  // One pool for Prisma and the plain SQL reads, so both count against the same connection limit.
  // A request waits for a pooled connection as long as a transaction may wait to start (maxWait).
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A pooled connection the server drops while idle is replaced on next use; unheard, it would end the process.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const sql: SqlReader = {
    async query<Row>({ text, params, reusePlan }: Statement) {
      const name = reusePlan ? statementName(text) : undefined;
      return (await pool.query({ ...(name ? { name } : {}), text, values: params })).rows as Row[];
    },
  };
  return wrap("postgres", prisma, sql, postgresListen(url), result, () => pool.end());
}

/** Extensions the migrations create (schema.prisma lists them); a server has them built in, PGlite loads them. */
const extensions = { pg_trgm };

async function openPglite(
  target: { dataDir: string } | { inMemory: true; snapshot?: Blob },
  migrations: Awaited<ReturnType<typeof readMigrations>>,
): Promise<Database> {
  let release = () => {};
  let pglite: PGlite;
  if ("dataDir" in target) {
    release = lockDataDir(target.dataDir);
    const folder = join(target.dataDir, "pglite");
    try {
      await mkdir(folder, { recursive: true });
      await access(folder, constants.R_OK | constants.W_OK);
      pglite = await PGlite.create(folder, { extensions });
    } catch (error) {
      release();
      throw new StartupError(
        `embedded database in ${folder} cannot be opened (${errorCode(error) ?? (error as Error).message}): set DATA_DIR to a readable, writable folder`,
      );
    }
  } else {
    pglite = await PGlite.create({ extensions, ...(target.snapshot ? { loadDataDir: target.snapshot } : {}) });
  }
  let result: MigrationResult;
  try {
    result = await migrate(pgliteSession(pglite), migrations);
    // PGlite runs no autovacuum, so nothing else keeps the planner's statistics (and the search
    // indexes' pending lists) current.
    await pglite.exec("VACUUM (ANALYZE)");
  } catch (error) {
    await pglite.close();
    release();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: pgliteAdapter(pglite) });
  const sql: SqlReader = {
    async query<Row>({ text, params }: Statement) {
      return (await pglite.query<Row>(text, params)).rows;
    },
  };
  return wrap("pglite", prisma, sql, pgliteListen(pglite), result, async () => {
    await pglite.close();
    release();
  });
}

/**
 * A migrated in-memory database, dumped. Loading it takes about a quarter of the time of a fresh
 * database plus every migration, which is what a test suite that opens hundreds of them pays.
 */
export async function pgliteSnapshot(options: OpenDatabaseOptions = {}): Promise<Blob> {
  const migrations = await readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const pglite = await PGlite.create({ extensions });
  try {
    await migrate(pgliteSession(pglite), migrations);
    await pglite.exec("VACUUM (ANALYZE)");
    return await pglite.dumpDataDir("none");
  } finally {
    await pglite.close();
  }
}

function wrap(
  kind: Database["kind"],
  prisma: PrismaClient,
  sql: SqlReader,
  listen: Listen,
  migrations: MigrationResult,
  closeEngine: () => Promise<void>,
): Database {
  let closed = false;
  return {
    kind,
    prisma,
    sql,
    listen,
    migrations,
    async ping(timeoutMs = 2000) {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([prisma.$queryRaw`SELECT 1`, timeout]);
      } finally {
        clearTimeout(timer);
      }
      return performance.now() - started;
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await closeEngine();
    },
  };
}

function pgSession(client: pg.Client): SqlSession {
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      return (await client.query(sql, params)).rows as Row[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      return (await db.query<Row>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

function explainPgError(error: unknown): string {
  const code = errorCode(error);
  const messages: Record<string, string> = {
    ECONNREFUSED: "connection refused (is the server running on that host and port?)",
    ENOTFOUND: "host name not found",
    EAI_AGAIN: "host name could not be resolved",
    ETIMEDOUT: "connection timed out",
    "28P01": "password authentication failed",
    "28000": "the server refused this user",
    "3D000": "the database does not exist",
  };
  if (code && messages[code]) return messages[code];
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}
