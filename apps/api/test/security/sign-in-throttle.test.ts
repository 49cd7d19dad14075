import { hash } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import { ANONYMOUS_AUDIT_ROWS, FREE_ATTEMPTS, loginThrottle } from "../../src/features/accounts/login-throttle.ts";
import { throttleSource } from "../../src/features/accounts/throttle-source.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { testPki } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase, openTestDatabase } from "../support/test-database.ts";

/**
 * Attacks on sign-in throttling (issue 13): failing on purpose locked the real user out, parallel
 * guesses all passed a check made before any of them failed, every IPv6 address was a fresh
 * source, a stolen session could guess the password through the password change unthrottled and
 * unaudited, and made-up user names filled the audit table.
 */
const PASSWORD = "correct horse battery staple";
const WRONG = "not the password";

describeEachDatabase("sign-in throttling cannot lock a user out and cannot be outrun", (kind: DatabaseKind) => {
  let db: Database;
  let app: TypedApp;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    app = await buildApp({ db, pki: testPki(), closeDatabaseOnClose: true });
  }, 180_000);
  afterAll(() => app.close());

  let users = 0;
  async function addUser(): Promise<{ id: string; username: string }> {
    users += 1;
    const username = `person-${users}`;
    const row = await db.prisma.user.create({
      data: { username, role: "viewer", passwordHash: await hash(PASSWORD, { algorithm: 2 }) },
    });
    return { id: row.id, username };
  }
  const login = (username: string, password: string, remoteAddress: string) =>
    app.inject({ method: "POST", url: "/api/session", payload: { username, password }, remoteAddress });
  const auditRows = (action: string, username?: string) =>
    db.prisma.auditEvent.count({
      where: { action, ...(username ? { summary: { path: ["username"], equals: username } } : {}) },
    });

  it("a known address signs in with the right password while another address fails on purpose", async () => {
    const victim = await addUser();
    expect((await login(victim.username, PASSWORD, "203.0.113.10")).statusCode).toBe(201);
    const attacker: number[] = [];
    for (let i = 1; i <= FREE_ATTEMPTS + 5; i++) {
      attacker.push((await login(victim.username, WRONG, `198.51.100.${i}`)).statusCode);
    }
    // The account is under attack: unknown addresses wait, whatever they send.
    expect(attacker.slice(0, FREE_ATTEMPTS)).toEqual(new Array(FREE_ATTEMPTS).fill(401));
    expect(attacker.slice(FREE_ATTEMPTS)).toEqual(new Array(5).fill(429));
    expect((await login(victim.username, PASSWORD, "192.0.2.99")).statusCode).toBe(429);
    // The address the victim signed in from before is not blocked by them.
    const own = await login(victim.username, PASSWORD, "203.0.113.10");
    expect(own.statusCode, own.body).toBe(201);
  });

  it(`lets at most ${FREE_ATTEMPTS} of 50 parallel wrong guesses reach the password check`, async () => {
    const target = await addUser();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => login(target.username, WRONG, "198.51.100.200")),
    );
    const codes = answers.map((answer) => answer.statusCode);
    expect(codes.filter((code) => code === 401)).toHaveLength(FREE_ATTEMPTS);
    expect(codes.filter((code) => code === 429)).toHaveLength(50 - FREE_ATTEMPTS);
    expect(await auditRows("session.login-failed", target.username)).toBe(FREE_ATTEMPTS);
  });

  it("counts every address of one IPv6 /64 as one source", async () => {
    const codes: number[] = [];
    for (let i = 1; i <= FREE_ATTEMPTS + 2; i++) {
      // A password spray: another account each time, another address of the same /64 each time.
      const user = await addUser();
      codes.push((await login(user.username, WRONG, `2001:db8:5:6::${i.toString(16)}`)).statusCode);
    }
    expect(codes).toEqual([...new Array(FREE_ATTEMPTS).fill(401), 429, 429]);
    const elsewhere = await addUser();
    expect((await login(elsewhere.username, WRONG, "2001:db8:5:7::1")).statusCode).toBe(401);
  });

  it("throttles wrong current passwords on a password change and audits each", async () => {
    const user = await addUser();
    const signedIn = await login(user.username, PASSWORD, "203.0.113.30");
    expect(signedIn.statusCode).toBe(201);
    const cookie = /sb_session=([^;]+)/.exec(String(signedIn.headers["set-cookie"]))?.[1];
    const headers = { cookie: `sb_session=${cookie}`, "x-csrf-token": signedIn.json().csrfToken as string };
    const change = (currentPassword: string) =>
      app.inject({
        method: "POST",
        url: "/api/session/password",
        headers,
        remoteAddress: "203.0.113.30",
        payload: { currentPassword, newPassword: "a brand new long password" },
      });
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      const wrong = await change(WRONG);
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().message).toContain("body.currentPassword");
    }
    const evenRight = await change(PASSWORD);
    expect(evenRight.statusCode, evenRight.body).toBe(429);
    expect(evenRight.json().message).toMatch(/^too many failed sign-ins: try again in \d+ s$/);
    expect(await db.prisma.auditEvent.count({ where: { action: "user.password-failed", targetId: user.id } })).toBe(
      FREE_ATTEMPTS,
    );
  });

  it(`records at most ${ANONYMOUS_AUDIT_ROWS} failures with made-up user names per window, then one note`, async () => {
    const flood = 2 * ANONYMOUS_AUDIT_ROWS;
    const codes: number[] = [];
    for (let start = 0; start < flood; start += 10) {
      const batch = Array.from({ length: 10 }, (_, i) => start + i);
      // Every guess from its own address with its own name: no other counter stops it.
      const answers = await Promise.all(batch.map((n) => login(`ghost-${n}`, WRONG, `10.77.${n >> 8}.${n & 255}`)));
      codes.push(...answers.map((answer) => answer.statusCode));
    }
    expect(codes).toEqual(new Array(flood).fill(401));
    const ghosts = await db.prisma.auditEvent.count({
      where: { action: "session.login-failed", summary: { path: ["username"], string_starts_with: "ghost-" } },
    });
    expect(ghosts).toBeLessThanOrEqual(ANONYMOUS_AUDIT_ROWS);
    expect(await auditRows("session.login-failed-suppressed")).toBe(1);
    // Failures against a real account are still each recorded.
    const real = await addUser();
    expect((await login(real.username, WRONG, "10.78.0.1")).statusCode).toBe(401);
    expect(await auditRows("session.login-failed", real.username)).toBe(1);
  });

  it("makes each attempt of a pair past the free ones wait twice as long as the last", async () => {
    const throttle = loginThrottle(db.prisma);
    const start = Date.parse("2030-01-01T00:00:00Z");
    const at = (ms: number) => new Date(start + ms);
    const user = (await addUser()).username;
    const attempt = (ms: number) => throttle.attempt(user, "203.0.113.77", "sign-in", at(ms));
    for (let i = 0; i < FREE_ATTEMPTS; i++) await attempt(i);
    const refused = async (ms: number) => {
      const error = await attempt(ms).then(
        () => undefined,
        (e: { statusCode?: number; retryAfter?: number }) => e,
      );
      expect(error?.statusCode, `attempt at +${ms} ms refused`).toBe(429);
      return error?.retryAfter;
    };
    expect(await refused(FREE_ATTEMPTS)).toBe(30);
    await attempt(31_000);
    expect(await refused(31_001)).toBe(60);
    await attempt(92_000);
    expect(await refused(92_001)).toBe(120);
  });
});

describe("the source a sign-in is counted against", () => {
  it("is the IPv4 address, the /64 of an IPv6 address, and the IPv4 address inside ::ffff:", () => {
    expect(throttleSource("192.0.2.7")).toBe("192.0.2.7");
    expect(throttleSource("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(throttleSource("2001:db8:a:b:1:2:3:4")).toBe("2001:db8:a:b::/64");
    expect(throttleSource("2001:db8:a:b::99")).toBe("2001:db8:a:b::/64");
    expect(throttleSource("2001:DB8:0A:000B::1%eth0")).toBe("2001:db8:a:b::/64");
    expect(throttleSource("2001:db8::")).toBe("2001:db8:0:0::/64");
    expect(throttleSource("::1")).toBe("0:0:0:0::/64");
    expect(throttleSource(undefined)).toBe("unknown");
    expect(throttleSource("not an address")).toBe("unknown");
  });
});
