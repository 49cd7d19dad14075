import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { itNeeding } from "@switchboard/testkit/needs";
import { type ServerProcess, startServer } from "@switchboard/testkit/server-process";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

const running: ServerProcess[] = [];
function start(env: Record<string, string>) {
  const server = startServer(env);
  running.push(server);
  return server;
}

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "sb-startup-"));
});
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop("SIGKILL");
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** The process ends with status 1 and exactly one line on stderr that says what to fix. */
async function expectOneLineFailure(server: ServerProcess, expected: RegExp) {
  expect(await server.exited).toBe(1);
  const lines = server.output().stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^switchboard: /);
  expect(lines[0]).toMatch(expected);
}

describe("the API process on the embedded database", () => {
  it("serves health and the console, keeps its data across a restart, and shuts down cleanly on SIGTERM", async () => {
    const dataDir = join(workDir, "data-restart");
    const webDir = join(workDir, "web");
    await mkdir(webDir);
    await writeFile(join(webDir, "index.html"), "<!doctype html><title>Switchboard console</title>");
    const first = start({ DATA_DIR: dataDir, WEB_DIR: webDir });
    const url = await first.ready;
    for (const page of ["", "networks/some-id"]) {
      const response = await fetch(`${url}${page}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("<title>Switchboard console</title>");
    }
    expect((await fetch(`${url}api/no-such-thing`)).status).toBe(404);
    expect(first.output().stdout).toContain(`(embedded database in ${dataDir})`);
    // No user yet: a one-time link to create the first administrator, never a default password.
    await expect
      .poll(() => first.output().stdout, patiently)
      .toMatch(/No administrator yet: open http:\/\/\S+\/setup#token=[A-Za-z0-9_-]{40,} /);
    const ready = await fetch(`${url}readyz`);
    expect(await ready.json()).toMatchObject({ status: "ready", database: { kind: "pglite" } });
    expect(await readFile(join(dataDir, "switchboard.pid"), "utf8")).toBe(`${first.child.pid}\n`);

    expect(await first.stop("SIGTERM")).toBe(0);
    await expect(readFile(join(dataDir, "switchboard.pid"))).rejects.toThrow(/ENOENT/);

    const second = start({ DATA_DIR: dataDir, LOG_LEVEL: "info" });
    await second.ready;
    // The second start found every migration already applied: the data folder was kept.
    expect(second.output().stdout).toMatch(/"applied":\[\],"alreadyApplied":[1-9]/);
  });

  it("refuses a second process on the same data folder", async () => {
    const dataDir = join(workDir, "data-shared");
    const first = start({ DATA_DIR: dataDir });
    await first.ready;
    const second = start({ DATA_DIR: dataDir });
    await expectOneLineFailure(
      second,
      new RegExp(`data folder ${dataDir} is in use by another Switchboard \\(pid ${first.child.pid}\\)`),
    );
  });

  it("says which port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const server = start({ DATA_DIR: join(workDir, "data-port"), PORT: String(port) });
      await expectOneLineFailure(
        server,
        new RegExp(`port ${port} on 127.0.0.1 is already in use: stop the other process or set PORT`),
      );
    } finally {
      blocker.close();
    }
  });

  it("says when the data folder cannot be used", async () => {
    const file = join(workDir, "not-a-folder");
    await writeFile(file, "");
    const server = start({ DATA_DIR: join(file, "data") });
    await expectOneLineFailure(server, /data folder .*not-a-folder\/data cannot be created \(ENOTDIR\): set DATA_DIR/);
  });

  it("lists every bad setting in one line", async () => {
    const server = start({ PORT: "eighty", LOG_LEVEL: "chatty" });
    await expectOneLineFailure(server, /configuration error: PORT must be .*; LOG_LEVEL must be one of/);
  });
});

describe("the API process on PostgreSQL", () => {
  it("says when the database cannot be reached", async () => {
    const server = start({ DATABASE_URL: "postgresql://sb:secret@127.0.0.1:1/switchboard" });
    await expectOneLineFailure(
      server,
      /cannot connect to PostgreSQL at 127\.0\.0\.1:1\/switchboard: connection refused.*check DATABASE_URL/,
    );
    expect(server.output().stderr).not.toContain("secret");
  });

  itNeeding(["postgresql"], "two processes started at once both come up and apply the migrations once", async () => {
    const scratch = await createScratchDatabase();
    try {
      const servers = [
        start({ DATABASE_URL: scratch.url, LOG_LEVEL: "info" }),
        start({ DATABASE_URL: scratch.url, LOG_LEVEL: "info" }),
      ];
      const urls = await Promise.all(servers.map((s) => s.ready));
      for (const url of urls) expect((await fetch(`${url}readyz`)).status).toBe(200);
      const appliedBy = servers.map(
        (s) => JSON.parse(/\{[^\n]*"database migrated"[^\n]*\}/.exec(s.output().stdout)?.[0] ?? "{}").applied,
      );
      // Exactly one process applied them; the other waited on the lock and found them done.
      expect(appliedBy.map((a: string[]) => a.length).sort()).toEqual([0, expect.any(Number)].sort());
      expect(appliedBy.flat().length).toBeGreaterThan(0);
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      const rows = (await client.query(`SELECT name, count(*)::int AS n FROM "_switchboard_migrations" GROUP BY name`))
        .rows;
      await client.end();
      expect(rows.map((r) => r.n)).toEqual(rows.map(() => 1));
      expect(rows.map((r) => r.name).sort()).toEqual(appliedBy.flat().sort());
      for (const server of servers) await server.stop();
    } finally {
      await scratch.drop();
    }
  });
});
