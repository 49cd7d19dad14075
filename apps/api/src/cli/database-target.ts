import type { Config } from "../config.ts";
import type { DatabaseTarget } from "../db/database.ts";

/** PostgreSQL when DATABASE_URL is set, the embedded database in DATA_DIR otherwise (as the server decides). */
export function databaseTargetOf(config: Config): DatabaseTarget {
  return config.databaseUrl
    ? { kind: "postgres", url: config.databaseUrl }
    : { kind: "pglite", dataDir: config.dataDir };
}

export function describeTarget(config: Config): string {
  return config.databaseUrl ? "the PostgreSQL database in DATABASE_URL" : `the embedded database in ${config.dataDir}`;
}
