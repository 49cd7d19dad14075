import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { CliError } from "../cli-error.ts";
import { box, isBoxed, unbox } from "./passphrase-box.ts";
import { readTar, writeTar } from "./tar.ts";

export const ARCHIVE_FORMAT = "switchboard-backup/1";
const MANIFEST = "manifest.json";
const MASTER_KEY = "master.key";
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface Manifest {
  format: typeof ARCHIVE_FORMAT;
  appVersion: string;
  /** The newest migration applied to the database the rows came from. */
  schemaVersion: string;
  createdAt: string;
  /** Whether master.key is inside (and the archive therefore encrypted). */
  masterKey: boolean;
  /** In restore order: each table after the tables it references. */
  tables: { name: string; rows: number; sha256: string }[];
}

export interface Contents {
  manifest: Manifest;
  /** Per table, its rows as JSON lines (the database's own JSON of each row). */
  tables: Map<string, string[]>;
  masterKey?: Buffer;
}

const tableFile = (name: string) => `tables/${name}.jsonl`;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const jsonLines = (lines: string[]) => Buffer.from(lines.map((line) => `${line}\n`).join(""), "utf8");

/** tar.gz of manifest.json, tables/*.jsonl and (only when given) master.key; encrypted when a passphrase is given. */
export async function packArchive(contents: Contents, passphrase?: string): Promise<Buffer> {
  if (contents.masterKey && !passphrase) throw new Error("an archive holding the master key must be encrypted");
  const entries = [{ name: MANIFEST, data: Buffer.from(`${JSON.stringify(contents.manifest, null, 2)}\n`) }];
  for (const { name } of contents.manifest.tables) {
    entries.push({ name: tableFile(name), data: jsonLines(contents.tables.get(name) ?? []) });
  }
  if (contents.masterKey)
    entries.push({ name: MASTER_KEY, data: Buffer.from(`${contents.masterKey.toString("base64")}\n`) });
  const packed = gzipSync(writeTar(entries));
  return passphrase ? box(packed, passphrase) : packed;
}

export function tableEntry(name: string, lines: string[]) {
  return { name, rows: lines.length, sha256: sha256(jsonLines(lines)) };
}

export function isEncrypted(file: Buffer): boolean {
  return isBoxed(file);
}

/**
 * Opens an archive and checks it whole before anyone acts on it: the format, every table's
 * checksum and row count, no file the manifest does not name, no table it names missing.
 */
export async function unpackArchive(file: Buffer, passphrase?: string): Promise<Contents> {
  let packed = file;
  if (isBoxed(file)) {
    if (!passphrase)
      throw new CliError("the archive is encrypted: give its passphrase (SWITCHBOARD_BACKUP_PASSPHRASE or stdin)");
    const opened = await unbox(file, passphrase);
    if (!opened) throw new CliError("the archive cannot be decrypted: wrong passphrase, or the file was altered");
    packed = opened;
  }
  let entries: ReturnType<typeof readTar>;
  try {
    entries = readTar(gunzipSync(packed));
  } catch (error) {
    throw new CliError(`the file is not a readable Switchboard backup (${(error as Error).message})`);
  }
  const byName = new Map<string, Buffer>();
  for (const entry of entries) {
    if (byName.has(entry.name)) throw new CliError(`archive: ${entry.name} appears twice`);
    byName.set(entry.name, entry.data);
  }
  const manifest = parseManifest(byName.get(MANIFEST));
  const expected = new Set([MANIFEST, ...manifest.tables.map((t) => tableFile(t.name))]);
  if (manifest.masterKey) expected.add(MASTER_KEY);
  for (const name of byName.keys()) {
    if (!expected.has(name))
      throw new CliError(`archive: ${JSON.stringify(name.slice(0, 80))} is not named in the manifest`);
  }
  const tables = new Map<string, string[]>();
  for (const table of manifest.tables) {
    const data = byName.get(tableFile(table.name));
    if (!data) throw new CliError(`archive: ${tableFile(table.name)} is missing`);
    if (sha256(data) !== table.sha256) {
      throw new CliError(
        `archive: ${tableFile(table.name)} does not match its checksum in the manifest (altered or damaged)`,
      );
    }
    const lines = data.length === 0 ? [] : data.toString("utf8").replace(/\n$/, "").split("\n");
    if (lines.length !== table.rows)
      throw new CliError(`archive: ${table.name} holds ${lines.length} rows; the manifest says ${table.rows}`);
    tables.set(table.name, lines);
  }
  const contents: Contents = { manifest, tables };
  if (manifest.masterKey) {
    if (!isBoxed(file)) throw new CliError("archive: holds a master key but is not encrypted; refusing it");
    const key = byName.get(MASTER_KEY);
    if (!key) throw new CliError(`archive: ${MASTER_KEY} is missing`);
    contents.masterKey = Buffer.from(key.toString("ascii").trim(), "base64");
  }
  return contents;
}

function parseManifest(data: Buffer | undefined): Manifest {
  if (!data) throw new CliError(`archive: ${MANIFEST} is missing; this is not a Switchboard backup`);
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch {
    throw new CliError(`archive: ${MANIFEST} is not JSON`);
  }
  const m = value as Partial<Manifest>;
  if (m?.format !== ARCHIVE_FORMAT) {
    throw new CliError(`archive: format ${JSON.stringify(m?.format)}; this build reads ${ARCHIVE_FORMAT}`);
  }
  const text = (field: keyof Manifest) => {
    const v = m[field];
    if (typeof v !== "string" || v.length === 0 || v.length > 200)
      throw new CliError(`manifest: ${field} must be a non-empty string`);
    return v;
  };
  if (typeof m.masterKey !== "boolean") throw new CliError("manifest: masterKey must be true or false");
  if (!Array.isArray(m.tables)) throw new CliError("manifest: tables must be a list");
  const seen = new Set<string>();
  const tables = m.tables.map((t, index) => {
    const ok =
      typeof t?.name === "string" &&
      TABLE_NAME.test(t.name) &&
      Number.isSafeInteger(t.rows) &&
      t.rows >= 0 &&
      typeof t.sha256 === "string" &&
      /^[0-9a-f]{64}$/.test(t.sha256);
    if (!ok)
      throw new CliError(
        `manifest: tables[${index}] needs a name (letters, digits, _), rows (a count) and sha256 (64 hex digits)`,
      );
    if (seen.has(t.name)) throw new CliError(`manifest: table ${t.name} is listed twice`);
    seen.add(t.name);
    return { name: t.name, rows: t.rows, sha256: t.sha256 };
  });
  return {
    format: ARCHIVE_FORMAT,
    appVersion: text("appVersion"),
    schemaVersion: text("schemaVersion"),
    createdAt: text("createdAt"),
    masterKey: m.masterKey,
    tables,
  };
}
