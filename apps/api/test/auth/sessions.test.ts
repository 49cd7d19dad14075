import { hash } from "@node-rs/argon2";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import { hashSecret, newSecret } from "../../src/auth/secrets.ts";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { apiClient, networkBody } from "../support/api-client.ts";
import { testPki } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase, openTestDatabase } from "../support/test-database.ts";

const PASSWORD = "correct horse battery staple";

describeEachDatabase("console sessions, CSRF, throttling and tokens", (kind: DatabaseKind) => {
  let db: Database;
  let app: TypedApp;
  const setupToken = newSecret();

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    app = await buildApp({
      db,
      pki: testPki(),
      setupToken,
      sessions: { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 },
    });
  });
  afterAll(async () => {
    await app.close();
    await db.close();
  });

  const anonymous = () => apiClient(app, null);
  const cookieOf = (response: { headers: Record<string, unknown> }) => {
    const header = String(response.headers["set-cookie"] ?? "");
    return { header, value: /sb_session=([^;]+)/.exec(header)?.[1] ?? "" };
  };
  async function login(username: string, password: string, ip = "127.0.0.1") {
    return app.inject({ method: "POST", url: "/api/session", payload: { username, password }, remoteAddress: ip });
  }
  async function addUser(username: string, role: "admin" | "operator" | "viewer" | "auditor") {
    await db.prisma.user.create({ data: { username, role, passwordHash: await hash(PASSWORD, { algorithm: 2 }) } });
  }

  it("creates the first administrator once, with the setup token printed at start", async () => {
    expect((await anonymous().get("/api/setup")).body).toEqual({ needed: true });
    const wrong = await anonymous().post("/api/setup", { token: "guess", username: "root", password: PASSWORD });
    expect(wrong.status).toBe(403);
    const weak = await anonymous().post("/api/setup", { token: setupToken, username: "root", password: "short" });
    expect(weak.status).toBe(400);
    expect(weak.body.message).toContain("body.password");
    const done = await anonymous().post("/api/setup", { token: setupToken, username: "root", password: PASSWORD });
    expect(done.status).toBe(201);
    expect(done.body.user).toMatchObject({ username: "root", role: "admin" });
    expect(cookieOf(done).header).toMatch(/HttpOnly/);
    expect(cookieOf(done).header).toMatch(/SameSite=Strict/);
    expect((await anonymous().get("/api/setup")).body).toEqual({ needed: false });
    const again = await anonymous().post("/api/setup", { token: setupToken, username: "root2", password: PASSWORD });
    expect(again.status).toBe(403);
  });

  it("signs in with a cookie, and refuses a cookie-authenticated change without the CSRF token", async () => {
    const signedIn = await login("root", PASSWORD);
    expect(signedIn.statusCode).toBe(201);
    const { value } = cookieOf(signedIn);
    const csrf = signedIn.json().csrfToken;
    const cookie = { cookie: `sb_session=${value}` };
    expect((await app.inject({ method: "GET", url: "/api/networks", headers: cookie })).statusCode).toBe(200);
    const noToken = await app.inject({ method: "POST", url: "/api/networks", headers: cookie, payload: networkBody() });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().message).toContain("x-csrf-token");
    const wrongToken = await app.inject({
      method: "POST",
      url: "/api/networks",
      headers: { ...cookie, "x-csrf-token": "nope" },
      payload: networkBody(),
    });
    expect(wrongToken.statusCode).toBe(403);
    const withToken = await app.inject({
      method: "POST",
      url: "/api/networks",
      headers: { ...cookie, "x-csrf-token": csrf },
      payload: networkBody(),
    });
    expect(withToken.statusCode).toBe(201);
    const session = await app.inject({ method: "GET", url: "/api/session", headers: cookie });
    expect(session.json()).toMatchObject({ user: { username: "root" }, csrfToken: csrf });
  });

  it("throttles failed sign-ins per account with a clear 'try again in N s'", async () => {
    await addUser("victim", "viewer");
    for (let i = 0; i < 5; i++) expect((await login("victim", "wrong password!", `10.9.0.${i}`)).statusCode).toBe(401);
    // Five guesses are free; then an address that never signed in to the account waits, even with the right password.
    const evenRight = await login("victim", PASSWORD, "10.9.0.100");
    expect(evenRight.statusCode).toBe(429);
    expect(evenRight.json().message).toMatch(/^too many failed sign-ins: try again in \d+ s$/);
    expect(Number(evenRight.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("throttles failed sign-ins per source address across accounts", async () => {
    for (let i = 0; i < 6; i++) await login(`nobody-${i}`, "wrong password!", "10.8.0.1");
    const response = await login("root", PASSWORD, "10.8.0.1");
    expect(response.statusCode).toBe(429);
    expect((await login("root", PASSWORD, "10.8.0.2")).statusCode).toBe(201);
  });

  it("ends a session after its idle or absolute timeout", async () => {
    const { value } = cookieOf(await login("root", PASSWORD));
    const session = await db.prisma.loginSession.findUniqueOrThrow({ where: { tokenHash: hashSecret(value) } });
    const cookie = { cookie: `sb_session=${value}` };
    await db.prisma.loginSession.update({
      where: { id: session.id },
      data: { lastSeenAt: new Date(Date.now() - 61_000) },
    });
    expect((await app.inject({ method: "GET", url: "/api/session", headers: cookie })).statusCode).toBe(401);

    const second = cookieOf(await login("root", PASSWORD)).value;
    await db.prisma.loginSession.updateMany({
      where: { tokenHash: hashSecret(second) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(
      (await app.inject({ method: "GET", url: "/api/session", headers: { cookie: `sb_session=${second}` } }))
        .statusCode,
    ).toBe(401);
  });

  it("signs out everywhere", async () => {
    const first = await login("root", PASSWORD);
    const second = cookieOf(await login("root", PASSWORD)).value;
    const headers = { cookie: `sb_session=${cookieOf(first).value}`, "x-csrf-token": first.json().csrfToken };
    expect((await app.inject({ method: "DELETE", url: "/api/session?everywhere=true", headers })).statusCode).toBe(204);
    expect(
      (await app.inject({ method: "GET", url: "/api/session", headers: { cookie: `sb_session=${second}` } }))
        .statusCode,
    ).toBe(401);
  });

  it("creates a token shown once and stored hashed, tracks its use, expires and revokes it", async () => {
    const admin = await login("root", PASSWORD);
    const headers = { cookie: `sb_session=${cookieOf(admin).value}`, "x-csrf-token": admin.json().csrfToken };
    const created = await app.inject({
      method: "POST",
      url: "/api/tokens",
      headers,
      payload: { name: "ci", role: "viewer" },
    });
    expect(created.statusCode).toBe(201);
    const { token, apiToken } = created.json();
    expect(token).toMatch(/^sbt_/);
    expect(new Date(apiToken.expiresAt).getTime() - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const stored = await db.prisma.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } });
    expect(stored.tokenHash).toBe(hashSecret(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const viewer = apiClient(app, token);
    expect((await viewer.get("/api/networks")).status).toBe(200);
    expect((await viewer.post("/api/networks", networkBody())).status).toBe(403);
    const listed = (await app.inject({ method: "GET", url: "/api/tokens", headers })).json();
    expect(listed.find((t: { id: string }) => t.id === apiToken.id)).toMatchObject({ lastUsedAt: expect.any(String) });
    expect(JSON.stringify(listed)).not.toContain(token);

    // A token past its expiry (written as another API instance or the clock would leave it).
    const stale = `sbt_${newSecret()}`;
    await db.prisma.apiToken.create({
      data: { name: "stale", role: "viewer", tokenHash: hashSecret(stale), expiresAt: new Date(Date.now() - 1000) },
    });
    const expired = await apiClient(app, stale).get("/api/networks");
    expect(expired.status).toBe(401);
    expect(expired.body.message).toContain("expired");
    expect((await app.inject({ method: "DELETE", url: `/api/tokens/${apiToken.id}`, headers })).statusCode).toBe(200);
    const revoked = await viewer.get("/api/networks");
    expect(revoked.status).toBe(401);
    expect(revoked.body.message).toContain("revoked");
  });

  it("sends security headers with the console and the API", async () => {
    const response = await app.inject({ method: "GET", url: "/healthz" });
    expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["referrer-policy"]).toBe("no-referrer");
    expect(response.headers["x-frame-options"]).toBe("SAMEORIGIN");
  });
});
