import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verify } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret, newSecret } from "../../src/auth/secrets.ts";
import { schemaVersion } from "../../src/cli/version.ts";
import { openDatabase } from "../../src/db/database.ts";
import { VERSION } from "../../src/routes/health.ts";
import { runCli } from "./run-cli.ts";

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "sb-cli-"));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe("switchboard version and help", () => {
  it("prints the app version and the schema version (the newest migration) and exits 0", async () => {
    const run = await runCli(["version"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`switchboard ${VERSION}\n`);
    expect(run.stdout).toContain(`schema ${await schemaVersion()}\n`);
  }, 120_000);

  it("answers a wrong command line with exit 2 and a line that says what was wrong", async () => {
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^switchboard: unknown command "frobnicate"/);
    const noFile = await runCli(["backup"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/backup takes FILE; got 0 argument/);
    const help = await runCli(["help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/backup FILE \[--include-master-key\]/);
    expect(help.stdout).toMatch(/restore FILE \[--force\]/);
  }, 120_000);
});

describe("switchboard admin reset-password", () => {
  let dataDir: string;
  let userId: string;
  beforeAll(async () => {
    dataDir = join(workDir, "reset");
    const db = await openDatabase({ kind: "pglite", dataDir });
    try {
      const user = await db.prisma.user.create({ data: { username: "alice", passwordHash: "old", role: "admin" } });
      userId = user.id;
      await db.prisma.loginSession.create({
        data: {
          userId,
          tokenHash: hashSecret(newSecret()),
          csrfToken: newSecret(),
          expiresAt: new Date(Date.now() + 3_600_000),
        },
      });
    } finally {
      await db.close();
    }
  }, 120_000);

  it("sets the password read from stdin, ends the user's sessions and writes an audit row", async () => {
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const run = await runCli(["admin", "reset-password", "alice", "--stdin"], { DATA_DIR: dataDir }, `${password}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("password of alice changed");
    const db = await openDatabase({ kind: "pglite", dataDir });
    try {
      const user = await db.prisma.user.findUniqueOrThrow({ where: { id: userId } });
      expect(await verify(user.passwordHash, password)).toBe(true);
      expect(await db.prisma.loginSession.count({ where: { userId } })).toBe(0);
      const audit = await db.prisma.auditEvent.findMany({ where: { action: "user.password-reset" } });
      expect(audit).toMatchObject([{ actorType: "system", actorName: "cli", targetType: "user", targetId: userId }]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it("refuses an unknown user with exit 1 and writes nothing", async () => {
    const run = await runCli(
      ["admin", "reset-password", "mallory", "--stdin"],
      { DATA_DIR: dataDir },
      "long enough password\n",
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^switchboard: no user named "mallory"/);
    const db = await openDatabase({ kind: "pglite", dataDir });
    try {
      expect(await db.prisma.auditEvent.count({ where: { action: "user.password-reset" } })).toBe(1);
    } finally {
      await db.close();
    }
  }, 120_000);
});
