import { afterEach, describe, expect, it } from "vitest";
import { type AppOptions, buildApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { testPki } from "../support/test-app.ts";
import { openTestDatabase } from "../support/test-database.ts";

/**
 * Attacks and breakage at the transport's edges (issue 13): a client that sends its own
 * X-Forwarded-For chose the source address that sign-in throttling and the audit log believe;
 * over plain HTTP from another machine the console was blank (CSP upgrade-insecure-requests
 * sent its scripts to an https:// nobody serves); behind a TLS proxy the session cookie was
 * not Secure.
 */
const SETUP_TOKEN = "setup-token-for-this-test";
const opened: { api: TypedApp; db: Database }[] = [];
afterEach(async () => {
  for (const { api } of opened.splice(0)) await api.close();
});

async function app(transport?: AppOptions["transport"]) {
  const db = await openTestDatabase("pglite");
  const api = await buildApp({
    db,
    pki: testPki(),
    closeDatabaseOnClose: true,
    setupToken: SETUP_TOKEN,
    ...(transport ? { transport } : {}),
  });
  opened.push({ api, db });
  return { api, db };
}

/** A failed sign-in from 127.0.0.1 that claims to forward for 203.0.113.7: the address its audit row got. */
async function sourceOfFailedSignIn({ api, db }: { api: TypedApp; db: Database }) {
  const answer = await api.inject({
    method: "POST",
    url: "/api/session",
    headers: { "x-forwarded-for": "203.0.113.7" },
    payload: { username: "nobody", password: "wrong password here" },
  });
  expect(answer.statusCode).toBe(401);
  const rows = await db.prisma.auditEvent.findMany({ where: { action: "session.login-failed" } });
  expect(rows).toHaveLength(1);
  return rows[0]?.sourceAddress;
}

/** The Set-Cookie of the first administrator's session, made through the setup route. */
async function setupCookie(api: TypedApp): Promise<string> {
  const answer = await api.inject({
    method: "POST",
    url: "/api/setup",
    payload: { token: SETUP_TOKEN, username: "admin", password: "a long enough password" },
  });
  expect(answer.statusCode, answer.body).toBe(201);
  return String(answer.headers["set-cookie"]);
}

describe("source addresses behind a proxy", () => {
  it("ignores X-Forwarded-For from a client when no proxy is trusted", async () => {
    expect(await sourceOfFailedSignIn(await app())).toBe("127.0.0.1");
  });

  it("ignores X-Forwarded-For from a peer that is not the trusted proxy", async () => {
    expect(await sourceOfFailedSignIn(await app({ trustProxy: ["10.9.9.9"] }))).toBe("127.0.0.1");
  });

  it("takes the forwarded address from the trusted proxy", async () => {
    expect(await sourceOfFailedSignIn(await app({ trustProxy: ["127.0.0.1"] }))).toBe("203.0.113.7");
  });
});

describe("headers and cookies follow how people reach the console", () => {
  it("over plain HTTP: no upgrade-insecure-requests, no HSTS, a plain cookie name without Secure", async () => {
    const { api } = await app();
    const page = await api.inject({ method: "GET", url: "/api/setup" });
    expect(page.headers["content-security-policy"]).not.toContain("upgrade-insecure-requests");
    expect(page.headers["strict-transport-security"]).toBeUndefined();
    const cookie = await setupCookie(api);
    expect(cookie).toMatch(/^sb_session=/);
    expect(cookie).not.toMatch(/Secure/);
  });

  it("behind a TLS proxy (https PUBLIC_URL): upgrade-insecure-requests, HSTS, a Secure __Host- cookie", async () => {
    const { api } = await app({ publicUrl: "https://vpn.example.net" });
    const page = await api.inject({ method: "GET", url: "/api/setup" });
    expect(page.headers["content-security-policy"]).toContain("upgrade-insecure-requests");
    expect(page.headers["strict-transport-security"]).toMatch(/^max-age=\d+$/);
    const cookie = await setupCookie(api);
    expect(cookie).toMatch(/^__Host-sb_session=[^;]+;/);
    expect(cookie).toMatch(/; Secure/);
  });
});
