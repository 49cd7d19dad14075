/** `switchboard backup FILE` and `switchboard restore FILE`: the commands around cli/backup/. */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { link, open, readFile, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Config, loadConfig } from "../config.ts";
import { ensureDataDir } from "../db/data-dir-lock.ts";
import { DEFAULT_MIGRATIONS_DIR, openDatabase } from "../db/database.ts";
import { readMigrations } from "../db/migrator.ts";
import { loadOrCreateMasterKey } from "../pki/index.ts";
import { MASTER_KEY_FILE } from "../pki/master-key.ts";
import { StartupError } from "../startup-error.ts";
import { isEncrypted, packArchive, unpackArchive } from "./backup/archive.ts";
import {
  checkMasterKeyOpens,
  checkSchemaVersion,
  restoreDatabase,
  snapshotDatabase,
} from "./backup/backup-database.ts";
import { PASSPHRASE_MIN } from "./backup/passphrase-box.ts";
import { CliError } from "./cli-error.ts";
import { databaseTargetOf, describeTarget } from "./database-target.ts";
import { readStdinLine } from "./read-stdin.ts";

export const PASSPHRASE_ENV = "SWITCHBOARD_BACKUP_PASSPHRASE";

const say = (line: string) => process.stdout.write(`${line}\n`);

/** A path given on the command line: any name the filesystem takes, but never an empty or NUL-bearing one. */
function checkFile(file: string): string {
  if (file.length === 0 || file.length > 4096 || file.includes("\0")) {
    throw new CliError("FILE: must be a path of 1 to 4096 characters without NUL bytes");
  }
  return file;
}

/** From SWITCHBOARD_BACKUP_PASSPHRASE, else the first line of stdin (never an argument: ps would show it). */
async function passphrase(): Promise<string> {
  if (!process.env[PASSPHRASE_ENV] && process.stdin.isTTY) {
    process.stderr.write("passphrase (shown as typed; end with Enter, then Ctrl-D): ");
  }
  const value = process.env[PASSPHRASE_ENV] || (await readStdinLine("passphrase on stdin"));
  if (value.length < PASSPHRASE_MIN || value.length > 1024) {
    throw new CliError(
      `passphrase: must be ${PASSPHRASE_MIN} to 1024 characters (${PASSPHRASE_ENV} or the first line of stdin); got ${value.length}`,
    );
  }
  return value;
}

/** The master key this installation uses, if it has one; never creates one (that is serve's job). */
async function existingMasterKey(config: Config): Promise<Buffer | undefined> {
  if (!config.masterKey && !existsSync(join(config.dataDir, MASTER_KEY_FILE))) return undefined;
  return (await loadOrCreateMasterKey({ envValue: config.masterKey, dataDir: config.dataDir })).key;
}

export async function backupCommand(file: string, options: { includeMasterKey: boolean }): Promise<void> {
  process.umask(0o077);
  checkFile(file);
  if (existsSync(file))
    throw new CliError(`${file} already exists: choose a new name (a backup never overwrites a file)`);
  const config = loadConfig();
  let masterKey: Buffer | undefined;
  let secret: string | undefined;
  if (options.includeMasterKey) {
    masterKey = await existingMasterKey(config);
    if (!masterKey)
      throw new CliError(
        `--include-master-key: there is no master key (SWITCHBOARD_MASTER_KEY unset, no ${MASTER_KEY_FILE} in ${config.dataDir})`,
      );
    secret = await passphrase();
  }
  say(`backing up ${describeTarget(config)}`);
  const db = await openDatabase(databaseTargetOf(config)).catch((error: unknown) => {
    // PGlite is one process's database: the running server holds it.
    if (error instanceof StartupError && !config.databaseUrl && /in use by another Switchboard/.test(error.message)) {
      throw new CliError(
        `${error.message.replace(/: stop it.*$/, "")}: stop the service for the backup (on PostgreSQL a backup runs while it serves)`,
      );
    }
    throw error;
  });
  let contents: Awaited<ReturnType<typeof snapshotDatabase>>;
  try {
    contents = await snapshotDatabase(db, say);
  } finally {
    await db.close();
  }
  if (masterKey) {
    contents.masterKey = masterKey;
    contents.manifest.masterKey = true;
  }
  const archive = await packArchive(contents, secret);
  await writeNewFile(file, archive);
  const rows = contents.manifest.tables.reduce((sum, t) => sum + t.rows, 0);
  say(
    `wrote ${file}: ${rows} rows in ${contents.manifest.tables.length} tables, schema ${contents.manifest.schemaVersion}, ${archive.length} bytes`,
  );
  say(
    masterKey
      ? "the master key is inside, encrypted with the passphrase: keep the passphrase apart from the file"
      : "the master key is NOT inside: keep a copy of it apart (without it no private key in this backup can be opened)",
  );
}

/** Written aside with mode 0600, synced, then linked into place: never half a file, never over another one. */
async function writeNewFile(path: string, data: Buffer): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString("hex")}.partial`);
  const handle = await open(temporary, "wx", 0o600).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write in ${dirname(path)} (${error.code ?? error.message})`);
  });
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "EEXIST" ? `${path} appeared meanwhile; nothing was overwritten` : `cannot create ${path} (${code})`,
    );
  } finally {
    await unlink(temporary);
  }
}

export async function restoreCommand(file: string, options: { force: boolean }): Promise<void> {
  process.umask(0o077);
  checkFile(file);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(`${file}: no such file`);
  const raw = await readFile(file);
  const contents = await unpackArchive(raw, isEncrypted(raw) ? await passphrase() : undefined);
  const { manifest } = contents;
  say(
    `${file}: Switchboard ${manifest.appVersion}, schema ${manifest.schemaVersion}, made ${manifest.createdAt}; checksums match`,
  );
  checkSchemaVersion(
    manifest,
    (await readMigrations(DEFAULT_MIGRATIONS_DIR)).map((m) => m.name),
  );

  const config = loadConfig();
  ensureDataDir(config.dataDir);
  const installed = await existingMasterKey(config);
  if (contents.masterKey && installed && !installed.equals(contents.masterKey)) {
    throw new CliError(
      `the archive's master key differs from this installation's (${config.masterKey ? "SWITCHBOARD_MASTER_KEY" : join(config.dataDir, MASTER_KEY_FILE)}): unset it or move the file aside first; nothing was changed`,
    );
  }
  const masterKey = contents.masterKey ?? installed;
  if (!masterKey) {
    throw new CliError(
      `the archive holds no master key and this installation has none: set SWITCHBOARD_MASTER_KEY, or put the original ${MASTER_KEY_FILE} in ${config.dataDir}`,
    );
  }
  const opened = checkMasterKeyOpens(contents, masterKey);
  say(`the master key opens all ${opened} sealed keys in the archive`);

  say(`restoring into ${describeTarget(config)}`);
  const db = await openDatabase(databaseTargetOf(config));
  try {
    const archiveKey = installed ? undefined : contents.masterKey;
    const beforeWrite = async () => {
      if (!archiveKey) return;
      // Before the rows commit: a database whose key file failed to appear would be unreadable.
      await installMasterKey(config.dataDir, archiveKey);
      say(`wrote the archive's master key to ${join(config.dataDir, MASTER_KEY_FILE)}`);
    };
    await restoreDatabase(db, contents, { force: options.force, beforeWrite }, say);
  } finally {
    await db.close();
  }
  const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0);
  say(`restored ${rows} rows in ${manifest.tables.length} tables; start the service (switchboard serve)`);
}

/** The same way serve creates it: 0600, written aside and linked, so it is never half there. */
async function installMasterKey(dataDir: string, key: Buffer): Promise<void> {
  const path = join(dataDir, MASTER_KEY_FILE);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(`${key.toString("base64")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } finally {
    await unlink(temporary);
  }
}
