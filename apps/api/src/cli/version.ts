import { basename } from "node:path";
import { DEFAULT_MIGRATIONS_DIR } from "../db/database.ts";
import { readMigrations } from "../db/migrator.ts";
import { VERSION } from "../routes/health.ts";

/** The schema this build migrates a database to: the name of its newest migration. */
export async function schemaVersion(): Promise<string> {
  const migrations = await readMigrations(DEFAULT_MIGRATIONS_DIR);
  const last = migrations.at(-1);
  return last ? basename(last.name) : "none";
}

/** What `switchboard version` prints; the database is not opened (a running server holds it). */
export async function versionText(): Promise<string> {
  return `switchboard ${VERSION}\nschema ${await schemaVersion()}\nnode ${process.versions.node}\n`;
}
