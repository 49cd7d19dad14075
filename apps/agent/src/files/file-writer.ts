import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { constants, type Dirent } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, readFile, realpath, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isManagedName, PathError, resolveInside } from "./safe-path.ts";

/** secret: keys, 0600; public: configs, certificates, ccd files, 0644; executable: the client hook, 0755. */
export type FileMode = "secret" | "public" | "executable";

export const MODE_BITS: Readonly<Record<FileMode, number>> = { secret: 0o600, public: 0o644, executable: 0o755 };

export interface ObservedFile {
  readonly sha256: string;
  /** Permission bits only. */
  readonly mode: number;
}

export function sha256(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

const TEMP = /^\.[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\.[0-9a-f]{12}\.tmp$/;

/**
 * Writes the agent's files under one base directory and nowhere else.
 *
 * Every write is atomic: a temp file in the same directory (so rename stays on one filesystem),
 * written, fsynced, renamed over the target, then the directory fsynced, so a crash leaves the
 * old file or the new one, never half of one, and OpenVPN reading a ccd file at connect time
 * never sees a partial file. Permissions are set on the open descriptor before any byte is
 * written, so a key is never readable by others, whatever the umask.
 *
 * Paths are relative and checked segment by segment (safe-path.ts); while walking to the target
 * each directory must be a real directory, not a symlink, so a link planted inside the base
 * directory cannot carry a write outside it. The base directory itself may be a symlink
 * (resolved once). The directory is root's; racing renames by another root process are out of
 * scope.
 */
/**
 * A file whose status changed less than this before it was read is not remembered: file times
 * are coarse (a clock tick of several ms), so a same-size edit within the tick of the read
 * would keep every time it had and look unchanged (git's "racy" files).
 */
const SETTLED_MS = 2000;

export interface FileWriterOptions {
  /** The clock compared with files' change times (tests). */
  readonly now?: () => number;
}

export class FileWriter {
  private base: string | undefined;
  /**
   * What observe() last hashed, by absolute path, with the identity and times it had then. The
   * slow reconcile observes every ccd file each 30 s: at 10,000 hosts re-reading them all was
   * most of its cost (and it holds the agent's queue, so deltas waited behind it). A write
   * (rename: a new inode), chmod or edit changes the change time, which user space cannot set.
   */
  private readonly hashes = new Map<string, { readonly key: string; readonly sha256: string }>();
  private readonly now: () => number;

  constructor(
    private readonly baseDir: string,
    options: FileWriterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  private async root(): Promise<string> {
    if (this.base === undefined) {
      await mkdir(this.baseDir, { recursive: true, mode: 0o755 });
      this.base = await realpath(this.baseDir);
    }
    return this.base;
  }

  /** The target's absolute path, with its parent directories created (and checked) when `create`. */
  private async locate(relativePath: string, create: boolean): Promise<string | undefined> {
    return this.walk(relativePath, create, false);
  }

  /** A directory's absolute path when it exists as a real directory inside the base ("" is the base). */
  private async locateDir(relativeDir: string): Promise<string | undefined> {
    if (relativeDir === "") return this.root();
    return this.walk(relativeDir, false, true);
  }

  private async walk(relativePath: string, create: boolean, includeLast: boolean): Promise<string | undefined> {
    const base = await this.root();
    const { absolute, segments } = resolveInside(base, relativePath);
    let dir = base;
    for (const segment of includeLast ? segments : segments.slice(0, -1)) {
      dir = join(dir, segment);
      const stat = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (stat === undefined) {
        if (!create) return undefined;
        await mkdir(dir, { mode: 0o755 });
        // Whatever the umask (the unit's UMask=0077): OpenVPN, running as nobody, reads ccd/.
        await chmod(dir, 0o755);
      } else if (!stat.isDirectory()) {
        throw new PathError(`${relativePath}: ${segment} is not a directory (symlinks are refused)`);
      }
    }
    return absolute;
  }

  /** Creates a directory (and its parents) inside the base, refusing symlinks on the way. */
  async ensureDir(relativeDir: string): Promise<void> {
    await this.walk(relativeDir, true, true);
  }

  async write(relativePath: string, content: string | Uint8Array, mode: FileMode): Promise<void> {
    const target = await this.locate(relativePath, true);
    if (target === undefined) throw new PathError(`${relativePath}: cannot create its directory`);
    const dir = dirname(target);
    const name = target.slice(dir.length + 1);
    const temp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(temp, flags, MODE_BITS[mode]);
    try {
      await handle.chmod(MODE_BITS[mode]);
      await handle.writeFile(content);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dir);
  }

  /**
   * Many writes with the same guarantee as `write` (old file or new, never half), for a full
   * install: the temp files are written a few at a time without a flush each, the filesystem is
   * flushed once (`sync -f`, syncfs; an fsync per file if that cannot run), then every temp is
   * renamed and each directory flushed once. One `write` costs two fsyncs (several ms on a
   * disk); 50,000 ccd files one by one took minutes. Returns the paths that failed, with why.
   */
  async writeMany(
    entries: readonly { readonly path: string; readonly content: string; readonly mode: FileMode }[],
  ): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    const written: { temp: string; target: string; path: string }[] = [];
    // Directories first, one by one: parallel walks would race to create the same one.
    for (const dir of new Set(entries.map((entry) => dirname(entry.path)))) {
      if (dir !== ".") await this.ensureDir(dir).catch(() => undefined);
    }
    await inParallel(entries, async (entry) => {
      try {
        const target = await this.locate(entry.path, true);
        if (target === undefined) throw new PathError(`${entry.path}: cannot create its directory`);
        const dir = dirname(target);
        const temp = join(dir, `.${target.slice(dir.length + 1)}.${randomBytes(6).toString("hex")}.tmp`);
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
        const handle = await open(temp, flags, MODE_BITS[entry.mode]);
        try {
          await handle.chmod(MODE_BITS[entry.mode]);
          await handle.writeFile(entry.content);
        } catch (error) {
          await handle.close();
          await unlink(temp).catch(() => undefined);
          throw error;
        }
        await handle.close();
        written.push({ temp, target, path: entry.path });
      } catch (error) {
        failed.set(entry.path, error);
      }
    });
    if (written.length === 0) return failed;
    const flushed = await syncFilesystem(dirname(written[0]?.target as string));
    const dirs = new Set<string>();
    await inParallel(written, async (file) => {
      try {
        if (!flushed) await syncFile(file.temp);
        await rename(file.temp, file.target);
        dirs.add(dirname(file.target));
      } catch (error) {
        await unlink(file.temp).catch(() => undefined);
        failed.set(file.path, error);
      }
    });
    for (const dir of dirs) await syncDirectory(dir);
    return failed;
  }

  /**
   * Appends to a file (created with `mode` when missing; a symlink is refused). Not atomic and
   * not flushed: for a journal whose reader stops at the first line it cannot parse.
   */
  async append(relativePath: string, content: string, mode: FileMode): Promise<void> {
    const target = await this.locate(relativePath, true);
    if (target === undefined) throw new PathError(`${relativePath}: cannot create its directory`);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
    const handle = await open(target, flags, MODE_BITS[mode]);
    try {
      await handle.chmod(MODE_BITS[mode]);
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  }

  /** Removes a managed regular file; false when there was none. Refuses directories. */
  async remove(relativePath: string): Promise<boolean> {
    const target = await this.locate(relativePath, false);
    if (target === undefined) return false;
    const stat = await lstat(target).catch(() => undefined);
    if (stat === undefined) return false;
    if (stat.isDirectory()) throw new PathError(`${relativePath} is a directory`);
    await unlink(target);
    await syncDirectory(dirname(target));
    return true;
  }

  /** Hash and permission bits of a regular file; undefined when missing or not a regular file. */
  async observe(relativePath: string): Promise<ObservedFile | undefined> {
    const target = await this.locate(relativePath, false);
    return target === undefined ? undefined : this.observeTarget(target);
  }

  /**
   * observe() for many files (the slow reconcile: every ccd file), `parallel` at a time: each
   * directory on the way is checked once for the call instead of once per file (at 10,000 hosts
   * that lstat of ccd/ was half the reconcile's system calls). Missing files are left out.
   */
  async observeMany(relativePaths: readonly string[], parallel = 16): Promise<Map<string, ObservedFile>> {
    const base = await this.root();
    const dirs = new Map<string, Promise<string | undefined>>();
    const observed = new Map<string, ObservedFile>();
    let next = 0;
    const worker = async () => {
      while (next < relativePaths.length) {
        const path = relativePaths[next++] as string;
        const { absolute, segments } = resolveInside(base, path);
        const dir = segments.slice(0, -1).join("/");
        let located = dirs.get(dir);
        if (located === undefined) {
          located = this.locateDir(dir);
          dirs.set(dir, located);
        }
        if ((await located) === undefined) continue;
        const file = await this.observeTarget(absolute);
        if (file !== undefined) observed.set(path, file);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, relativePaths.length)) }, worker));
    return observed;
  }

  private async observeTarget(target: string): Promise<ObservedFile | undefined> {
    const stat = await lstat(target, { bigint: true }).catch(() => undefined);
    if (stat === undefined || !stat.isFile()) {
      this.hashes.delete(target);
      return undefined;
    }
    const mode = Number(stat.mode & 0o777n);
    const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    const known = this.hashes.get(target);
    if (known?.key === key) return { sha256: known.sha256, mode };
    // Read after the lstat: a change in between gives a newer change time, so the next observe reads again.
    const hash = sha256(await readFile(target));
    if (this.now() - Number(stat.ctimeNs / 1_000_000n) > SETTLED_MS) this.hashes.set(target, { key, sha256: hash });
    else this.hashes.delete(target);
    return { sha256: hash, mode };
  }

  /** Regular files with managed names in a directory (symlinks, hidden and odd names left out). */
  async list(relativeDir: string): Promise<string[]> {
    const dir = await this.locateDir(relativeDir);
    if (dir === undefined) return [];
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isFile() && isManagedName(entry.name)).map((entry) => entry.name);
  }

  /**
   * Makes a directory hold exactly `wanted` among the files the agent manages: removes other
   * regular files with managed names (client-config files of deleted or disabled hosts) and
   * temp files left by a crash. Leaves alone subdirectories, symlinks, other hidden files and
   * `DEFAULT` (OpenVPN's fallback file, which the agent never writes). Returns what it removed.
   */
  async syncDir(relativeDir: string, wanted: Iterable<string>): Promise<string[]> {
    const dir = await this.locateDir(relativeDir);
    if (dir === undefined) return [];
    const keep = new Set(wanted);
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const removed: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const stale =
        TEMP.test(entry.name) || (isManagedName(entry.name) && entry.name !== "DEFAULT" && !keep.has(entry.name));
      if (!stale) continue;
      await unlink(join(dir, entry.name));
      removed.push(entry.name);
    }
    if (removed.length > 0) await syncDirectory(dir);
    return removed.sort();
  }
}

const PARALLEL = 32;

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

/** syncfs(2) through coreutils' `sync -f`: false when it could not run (then each file is flushed). */
function syncFilesystem(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("sync", ["-f", path], { timeout: 60_000 }, (error) => resolve(error === null));
  });
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
