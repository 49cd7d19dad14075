import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { type ServerProcess, startServer } from "@switchboard/testkit/server-process";
import { afterAll, beforeAll, expect, it } from "vitest";

/**
 * Attack (issue 13): a DATA_DIR that already existed with 0755 left PGlite's catalog and WAL
 * open to every user of the machine (PGlite creates its files 0666 whatever the umask). Start-up
 * now makes the folder 0700, so another user cannot reach any file in it, and runs with umask 077.
 */
describeNeeding(["root"], "the data folder of a running API, against another local user", () => {
  const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];
  let server: ServerProcess;
  let workDir: string;
  let dataDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "sb-data-dir-"));
    await chmod(workDir, 0o755);
    dataDir = join(workDir, "data");
    await mkdir(dataDir);
    await chmod(dataDir, 0o755);
    server = startServer({ DATA_DIR: dataDir });
    await server.ready;
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    await rm(workDir, { recursive: true, force: true });
  });

  function asNobody(script: string, ...args: string[]) {
    return spawnSync("setpriv", [...NOBODY, "sh", "-c", script, "sh", ...args], { encoding: "utf8" });
  }

  it("makes a data folder that existed with 0755 into 0700", () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it("keeps another user from writing the database's files or reading the master key", () => {
    const files = readdirSync(join(dataDir, "pglite"), { recursive: true })
      .map((entry) => join(dataDir, "pglite", String(entry)))
      .filter((path) => statSync(path).isFile());
    const wal = files.find((path) => path.includes("pg_wal/"));
    expect(wal, "a WAL file under pglite/pg_wal").toBeDefined();
    const write = asNobody('printf x >> "$1"', wal as string);
    expect(write.status, "nobody appending to the WAL").not.toBe(0);
    expect(write.stderr).toMatch(/Permission denied/);
    const read = asNobody('cat "$1"', join(dataDir, "master.key"));
    expect(read.status, "nobody reading the master key").not.toBe(0);
    expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);
  });
});
