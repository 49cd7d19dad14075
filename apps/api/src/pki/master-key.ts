import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { PkiError } from "./pki-error.ts";
import { MASTER_KEY_BYTES } from "./seal.ts";

export const MASTER_KEY_FILE = "master.key";
export const DEFAULT_MASTER_KEY_ENV = "SWITCHBOARD_MASTER_KEY";

export interface MasterKeyOptions {
  /** The environment variable's value; empty or undefined means "use the key file". */
  envValue?: string | undefined;
  /** Named in error messages. */
  envName?: string;
  dataDir: string;
}

export interface MasterKey {
  key: Buffer;
  /** "created" tells the caller to log that a new key file exists and must be backed up. */
  source: "environment" | "file" | "created";
  path?: string;
}

const FORMAT_RULE = `must be ${MASTER_KEY_BYTES} bytes written as 64 hex digits or as base64 (44 characters)`;

/** Parses hex or base64; never echoes the value, which is a secret. */
export function parseMasterKey(text: string, field: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(value) || /^[A-Za-z0-9_-]{43}$/.test(value)) {
    const key = Buffer.from(value, value.endsWith("=") ? "base64" : "base64url");
    if (key.length === MASTER_KEY_BYTES) return key;
  }
  throw new PkiError(field, `${FORMAT_RULE}; got ${value.length} characters that are neither`);
}

/**
 * The key that seals every private key at rest. From the environment when set (for operators
 * who keep it in a secret store), otherwise from `<dataDir>/master.key`, created on first start.
 * Losing this key makes every sealed key unreadable, so the file is never silently replaced.
 */
export async function loadOrCreateMasterKey(options: MasterKeyOptions): Promise<MasterKey> {
  const envName = options.envName ?? DEFAULT_MASTER_KEY_ENV;
  if (options.envValue !== undefined && options.envValue !== "") {
    return { key: parseMasterKey(options.envValue, envName), source: "environment" };
  }
  const path = join(options.dataDir, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return { key: existing, source: "file", path };
  const created = await createKeyFile(options.dataDir, path);
  return created
    ? { key: created, source: "created", path }
    : { key: await readKeyFileOrFail(path), source: "file", path };
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (!info.isFile()) throw new PkiError(path, "must be a regular file holding the master key");
  const mode = info.mode & 0o777;
  if (mode & 0o077) {
    throw new PkiError(
      path,
      `is readable or writable by group or others (mode ${mode.toString(8).padStart(4, "0")}); ` +
        `the master key must be private to this user: run chmod 600 ${path}`,
    );
  }
  return parseMasterKey(await readFile(path, "utf8"), path);
}

async function readKeyFileOrFail(path: string): Promise<Buffer> {
  const key = await readKeyFile(path);
  if (!key) throw new PkiError(path, "disappeared while it was being created");
  return key;
}

/**
 * Writes the key to a temporary file with mode 0600 and hard-links it into place: the link
 * fails if another process created master.key meanwhile, so two first starts cannot end up
 * with different keys, and master.key never exists half-written. Returns undefined when
 * another process won; the caller then reads its key.
 */
async function createKeyFile(dataDir: string, path: string): Promise<Buffer | undefined> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(MASTER_KEY_BYTES);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "wx", 0o600);
  try {
    // The umask can only remove bits, but be explicit: this file must never be wider than 0600.
    await handle.chmod(0o600);
    await handle.writeFile(`${key.toString("base64")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw error;
  } finally {
    await unlink(temporary);
  }
}
