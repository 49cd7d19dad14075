import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorCode, StartupError } from "../startup-error.ts";

/**
 * PGlite is a single-process database: two Switchboard processes on one data folder would corrupt
 * it. A pid file taken with O_EXCL keeps the second one out; a file left by a dead process is
 * taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  ensureDataDir(dataDir);
  const file = join(dataDir, "switchboard.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (error) {
      const code = errorCode(error);
      if (code !== "EEXIST") {
        throw new StartupError(
          `data folder ${dataDir} is not writable (${code ?? error}): set DATA_DIR to a folder this user can write`,
        );
      }
      const owner = Number.parseInt(readFileSync(file, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new StartupError(
          `data folder ${dataDir} is in use by another Switchboard (pid ${owner}): stop it, or set DATA_DIR or DATABASE_URL`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new StartupError(`could not lock data folder ${dataDir}: remove ${file} if no Switchboard runs`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

/**
 * Creates the data folder (it holds the master key even when the database is a server) and makes
 * it 0700: a folder that already existed with 0755 would leave the database's files readable,
 * and with a looser umask writable, by every user of the machine.
 */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StartupError(
      `data folder ${dataDir} cannot be created (${errorCode(error) ?? error}): set DATA_DIR to a writable folder`,
    );
  }
  if ((statSync(dataDir).mode & 0o777) === 0o700) return;
  try {
    chmodSync(dataDir, 0o700);
  } catch (error) {
    throw new StartupError(
      `data folder ${dataDir} is open to other users and cannot be made 0700 (${errorCode(error) ?? error}): chmod 700 it, or set DATA_DIR to a folder this user owns`,
    );
  }
}
