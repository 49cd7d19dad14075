import { basename } from "node:path";
import type { Database } from "../../db/database.ts";
import type { Tx } from "../../db/transactions.ts";
import { sealContext } from "../../features/pki/certificate-authority.ts";
import { unseal } from "../../pki/index.ts";
import { VERSION } from "../../routes/health.ts";
import { CliError } from "../cli-error.ts";
import { ARCHIVE_FORMAT, type Contents, type Manifest, tableEntry } from "./archive.ts";
import { emptyTables, insertRows, resetSequences, rowsOf, tablesInDependencyOrder, tablesWithRows } from "./tables.ts";

export type Progress = (line: string) => void;

/** A long backup or restore must not be cut by the API's 30 s transaction limit. */
const LONG_TRANSACTION = { maxWait: 10_000, timeout: 60 * 60_000 };

/**
 * Every table read in one REPEATABLE READ, READ ONLY transaction: one snapshot of the whole
 * database, as of its first read, while the API keeps writing (PostgreSQL never blocks writers
 * for it). On PGlite the server holds the data folder, so the backup runs with the server stopped.
 */
export async function snapshotDatabase(db: Database, progress: Progress = () => {}): Promise<Contents> {
  return db.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const schemaVersion = await newestMigration(tx);
    const tables = new Map<string, string[]>();
    const manifestTables: Manifest["tables"] = [];
    for (const table of await tablesInDependencyOrder(tx)) {
      const lines: string[] = [];
      for await (const batch of rowsOf(tx, table)) lines.push(...batch);
      tables.set(table.name, lines);
      manifestTables.push(tableEntry(table.name, lines));
      progress(`  ${table.name}: ${lines.length} rows`);
    }
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      appVersion: VERSION,
      schemaVersion,
      createdAt: new Date().toISOString(),
      masterKey: false,
      tables: manifestTables,
    };
    return { manifest, tables };
  }, LONG_TRANSACTION);
}

async function newestMigration(tx: Tx): Promise<string> {
  const rows = await tx.$queryRawUnsafe<{ name: string | null }[]>(
    `SELECT max(name) AS name FROM "_switchboard_migrations"`,
  );
  const name = rows[0]?.name;
  if (!name) throw new CliError("the database has no migrations applied; there is nothing to back up");
  return name;
}

/**
 * This build restores only the schema it migrates to: rows of an older schema may need what a
 * later migration did to them (a backfill, a renamed column), rows of a newer one may not fit.
 */
export function checkSchemaVersion(manifest: Manifest, buildMigrations: string[]): void {
  const own = buildMigrations.map((name) => basename(name));
  const newest = own.at(-1) ?? "none";
  if (manifest.schemaVersion === newest) return;
  if (!own.includes(manifest.schemaVersion)) {
    throw new CliError(
      `the archive is from schema ${manifest.schemaVersion} (Switchboard ${manifest.appVersion}), newer than this build's ${newest}: restore it with a build at least that new`,
    );
  }
  throw new CliError(
    `the archive is from the older schema ${manifest.schemaVersion} (Switchboard ${manifest.appVersion}); this build has ${newest}: restore it with Switchboard ${manifest.appVersion}, then upgrade (start it once) and back up again`,
  );
}

const hexBytes = (value: unknown): Buffer | undefined =>
  typeof value === "string" && value.startsWith("\\x") ? Buffer.from(value.slice(2), "hex") : undefined;

/**
 * Opens every sealed value in the archive with `masterKey` (AES-GCM: cheap), so a wrong key is
 * found before anything is replaced, not when the first certificate is issued. Returns how many.
 */
export function checkMasterKeyOpens(contents: Contents, masterKey: Buffer): number {
  let opened = 0;
  const open = (sealed: Buffer | undefined, context: string, what: string) => {
    if (!sealed) return;
    try {
      unseal(sealed, masterKey, context);
    } catch {
      throw new CliError(
        `the master key does not open ${what}: this archive was sealed with another key (set SWITCHBOARD_MASTER_KEY or DATA_DIR/master.key to the key of the database it came from)`,
      );
    }
    opened += 1;
  };
  for (const line of contents.tables.get("Network") ?? []) {
    const row = JSON.parse(line) as Record<string, unknown>;
    const id = String(row.id);
    open(hexBytes(row.tlsCryptKeySealed), sealContext.tlsCrypt(id), `network ${id}'s tls-crypt key`);
    open(hexBytes(row.backboneTlsCryptKeySealed), sealContext.backboneTlsCrypt(id), `network ${id}'s backbone key`);
  }
  for (const line of contents.tables.get("Certificate") ?? []) {
    const row = JSON.parse(line) as Record<string, unknown>;
    const context = sealContext.certificateKey(String(row.networkId), String(row.serial));
    open(hexBytes(row.keySealed), context, `the private key of certificate ${String(row.serial)}`);
  }
  return opened;
}

/**
 * Writes the archive's rows into `db` in one transaction: all of them or none. A database that
 * already holds rows is refused unless `force`, which empties it first (in the same transaction).
 */
export async function restoreDatabase(
  db: Database,
  contents: Contents,
  /** `beforeWrite` runs once every check passed, just before the first change (restore installs the master key there). */
  options: { force: boolean; beforeWrite?: () => Promise<void> },
  progress: Progress = () => {},
): Promise<void> {
  await db.prisma.$transaction(async (tx) => {
    const tables = await tablesInDependencyOrder(tx);
    const known = new Set(tables.map((t) => t.name));
    for (const table of contents.manifest.tables) {
      if (!known.has(table.name))
        throw new CliError(`the archive has table ${table.name}, which this database does not`);
    }
    const occupied = await tablesWithRows(tx, tables);
    if (occupied.length > 0 && !options.force) {
      throw new CliError(
        `the target database is not empty (rows in ${occupied.join(", ")}): restore into an empty one, or add --force to replace everything in it`,
      );
    }
    await options.beforeWrite?.();
    if (occupied.length > 0) {
      progress(`  emptying the target database (--force): ${occupied.join(", ")}`);
      await emptyTables(tx, tables);
    }
    for (const table of contents.manifest.tables) {
      const lines = contents.tables.get(table.name) ?? [];
      await insertRows(tx, table.name, lines);
      progress(`  ${table.name}: ${lines.length} rows`);
    }
    await resetSequences(
      tx,
      contents.manifest.tables.map((t) => t.name),
    );
  }, LONG_TRANSACTION);
}
