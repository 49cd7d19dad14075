import { hash } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import type { Role } from "../../src/generated/prisma/client.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { apiClient, networkBody } from "../support/api-client.ts";
import { defaultTokens, seedToken, testPki } from "../support/test-app.ts";
import { openTestDatabase } from "../support/test-database.ts";

/**
 * Attacks on API tokens (issue 13): a token outlived its owner's demotion or disabling, a token
 * could mint its own successor, and an admin token could be made to never expire.
 */
const PASSWORD = "a long enough password";

describe("API tokens are bounded by their owner, now", () => {
  let app: TypedApp;
  let db: Database;

  beforeAll(async () => {
    db = await openTestDatabase("pglite");
    app = await buildApp({ db, pki: testPki(), closeDatabaseOnClose: true });
    defaultTokens.set(app, await seedToken(db, "admin"));
  });
  afterAll(() => app.close());

  let users = 0;
  /** A user of `role`, signed in: returns a client for their session and their id. */
  async function signedIn(role: Role) {
    users += 1;
    const username = `user-${users}`;
    const user = await db.prisma.user.create({
      data: { username, role, passwordHash: await hash(PASSWORD, { algorithm: 2 }) },
    });
    const login = await app.inject({ method: "POST", url: "/api/session", payload: { username, password: PASSWORD } });
    expect(login.statusCode, login.body).toBe(201);
    const cookie = /sb_session=([^;]+)/.exec(String(login.headers["set-cookie"]))?.[1];
    const headers = { cookie: `sb_session=${cookie}`, "x-csrf-token": login.json().csrfToken as string };
    const call = (method: "POST" | "PATCH", url: string, payload: unknown) =>
      app.inject({ method, url, headers, payload: payload as object });
    return { id: user.id, call };
  }

  async function tokenOf(owner: Awaited<ReturnType<typeof signedIn>>, role: Role, extra: object = {}) {
    const created = await owner.call("POST", "/api/tokens", { name: `t-${role}`, role, ...extra });
    expect(created.statusCode, created.body).toBe(201);
    return created.json().token as string;
  }

  /** The admin who changes other users; a fresh one per test keeps tests independent. */
  const admin = () => signedIn("admin");

  it("stops a token the moment its owner is disabled", async () => {
    const owner = await signedIn("admin");
    const token = await tokenOf(owner, "operator");
    expect((await apiClient(app, token).get("/api/networks")).status).toBe(200);
    const disabled = await (await admin()).call("PATCH", `/api/users/${owner.id}`, { disabled: true });
    expect(disabled.statusCode, disabled.body).toBe(200);
    const after = await apiClient(app, token).get("/api/networks");
    expect(after.status).toBe(401);
  });

  it("revokes an admin's tokens when they are demoted, so an old admin token cannot change anything", async () => {
    const owner = await signedIn("admin");
    const token = await tokenOf(owner, "admin");
    expect((await apiClient(app, token).post("/api/networks", networkBody())).status).toBe(201);
    const demoted = await (await admin()).call("PATCH", `/api/users/${owner.id}`, { role: "viewer" });
    expect(demoted.statusCode, demoted.body).toBe(200);
    const after = await apiClient(app, token).post("/api/networks", networkBody());
    expect(after.status).toBe(401);
  });

  it("acts with the lesser of its own role and its owner's current role, even where a demotion left it alive", async () => {
    const owner = await signedIn("admin");
    const token = await tokenOf(owner, "operator");
    const networkId = (await apiClient(app).post("/api/networks", networkBody())).body.id;
    const client = apiClient(app, token);
    expect((await client.post("/api/hosts", { networkId, commonName: "before" })).status).toBe(201);
    // As another instance or an older version could leave it: the owner demoted, the token not revoked.
    await db.prisma.user.update({ where: { id: owner.id }, data: { role: "viewer" } });
    expect((await client.get("/api/networks")).status).toBe(200);
    // Another instance's change reaches this one when its token cache entry is next verified (5 s).
    await vi.waitFor(
      async () => {
        const after = await client.post("/api/hosts", { networkId, commonName: "after" });
        expect(after.status).toBe(403);
        expect(after.body.message).toContain("role viewer");
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it("refuses a token that tries to create a token", async () => {
    const token = await tokenOf(await signedIn("admin"), "admin");
    const minted = await apiClient(app, token).post("/api/tokens", { name: "successor", role: "admin" });
    expect(minted.status).toBe(403);
    expect(minted.body.message).toContain("created by a signed-in user");
  });

  it("refuses an admin token that never expires or lives longer than 90 days, naming the field", async () => {
    const owner = await signedIn("admin");
    for (const expiresInDays of [null, 91, 3650]) {
      const minted = await owner.call("POST", "/api/tokens", { name: "forever", role: "admin", expiresInDays });
      expect(minted.statusCode, String(expiresInDays)).toBe(400);
      expect(minted.json().message).toContain("body.expiresInDays must be at most 90 for an admin token");
    }
    expect(
      (await owner.call("POST", "/api/tokens", { name: "viewer-forever", role: "viewer", expiresInDays: null }))
        .statusCode,
    ).toBe(201);
  });
});
