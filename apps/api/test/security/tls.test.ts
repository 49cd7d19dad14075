import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { networkBody } from "@switchboard/testkit/network-fixture";
import { type PinnedResponse, pinnedRequest } from "@switchboard/testkit/pinned-https";
import { type ServerProcess, setupTokenOf, startServer } from "@switchboard/testkit/server-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enroll } from "../../../agent/src/channel/enroll.ts";

/**
 * Attacks on the transport (issue 13): the agent channel and the console were plain HTTP
 * off-loopback, so anyone on the path read agent credentials, switch keys and session cookies.
 * The API now serves HTTPS itself with a certificate agents pin; these tests run the real
 * process, as an operator starts it.
 */
describe("the API serving HTTPS with a self-signed certificate it keeps in DATA_DIR", () => {
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  let ca: string;
  let fingerprint: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sb-tls-"));
    // TLS=on: the same path as a non-loopback HOST takes by default, kept on loopback for the test.
    server = startServer({ DATA_DIR: dataDir, HOST: "127.0.0.1", TLS: "on" });
    base = (await server.ready).replace(/\/$/, "");
    ca = readFileSync(join(dataDir, "tls-cert.pem"), "utf8");
    fingerprint = new X509Certificate(ca).fingerprint256;
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = (path: string, options: Parameters<typeof pinnedRequest>[1] = {}) =>
    pinnedRequest(`${base}${path}`, { ca, ...options });

  it("says https, prints the certificate's fingerprint and keeps the key private to its user", () => {
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output().stdout).toContain(`SHA-256 fingerprint ${fingerprint}`);
    expect(statSync(join(dataDir, "tls-key.pem")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "tls-cert.pem")).mode & 0o777).toBe(0o600);
  });

  it("answers nothing to plain HTTP on its port (no downgrade)", async () => {
    const plain = pinnedRequest(`${base.replace("https:", "http:")}/readyz`, { timeoutMs: 20_000 });
    await expect(plain).rejects.toThrow();
  });

  it("is refused by a client that trusts only the system's authorities", async () => {
    await expect(pinnedRequest(`${base}/readyz`)).rejects.toThrow(/self[- ]signed/i);
    expect((await call("/readyz")).status).toBe(200);
  });

  let adminHeaders: Record<string, string>;
  let setCookie: string;
  let signedIn: PinnedResponse;

  it("sets a __Host- session cookie that is Secure, with HSTS and upgrade-insecure-requests", async () => {
    const setupToken = await setupTokenOf(server);
    signedIn = await call("/api/setup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: setupToken, username: "admin", password: "a long enough password" }),
    });
    expect(signedIn.status, signedIn.text).toBe(201);
    setCookie = String(signedIn.headers["set-cookie"]);
    expect(setCookie).toMatch(/^__Host-sb_session=[^;]+;/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(signedIn.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
    expect(signedIn.headers["content-security-policy"]).toContain("upgrade-insecure-requests");
    const cookie = setCookie.split(";")[0] as string;
    adminHeaders = { cookie, "x-csrf-token": signedIn.json<{ csrfToken: string }>().csrfToken };
    // The same session under the plain name (a cookie planted over HTTP or by a sibling host) is no session.
    const planted = await call("/api/session", { headers: { cookie: cookie.replace("__Host-", "") } });
    expect(planted.status).toBe(401);
    expect((await call("/api/session", { headers: { cookie } })).status).toBe(200);
  });

  async function enrollment(): Promise<{ token: string; api: string; fingerprint256: string; command: string }> {
    const json = { ...adminHeaders, "content-type": "application/json" };
    const network = await call("/api/networks", {
      method: "POST",
      headers: json,
      body: JSON.stringify(networkBody()),
    });
    expect(network.status, network.text).toBe(201);
    const sw = await call("/api/switches", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ networkId: network.json<{ id: string }>().id, name: "sw-a", endpointHost: "192.0.2.10" }),
    });
    expect(sw.status, sw.text).toBe(201);
    const made = await call(`/api/switches/${sw.json<{ id: string }>().id}/enrollment`, {
      method: "POST",
      headers: json,
      body: "{}",
    });
    expect(made.status, made.text).toBe(201);
    return made.json();
  }

  it("hands out the enroll command with the API's address and fingerprint, and the agent pins it", async () => {
    const made = await enrollment();
    expect(made.api).toBe(base);
    expect(made.fingerprint256).toBe(fingerprint);
    expect(made.command).toBe(
      `switchboard-agent enroll --api ${base} --token ${made.token} --fingerprint ${fingerprint} && systemctl enable --now switchboard-agent`,
    );
    const stateDir = join(dataDir, "agent-ok");
    const { file } = await enroll({ api: made.api, token: made.token, stateDir, fingerprint: made.fingerprint256 });
    expect(file.pin?.fingerprint256).toBe(fingerprint);
  });

  it("an agent told another fingerprint (a certificate in the middle) refuses before sending its token", async () => {
    const made = await enrollment();
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith("00") ? "11" : "00");
    const stateDir = join(dataDir, "agent-mitm");
    await expect(enroll({ api: made.api, token: made.token, stateDir, fingerprint: wrong })).rejects.toThrow(
      /fingerprint|pinned|not the/i,
    );
    // The token was never presented, so it still works for the right certificate.
    const { file } = await enroll({ api: made.api, token: made.token, stateDir, fingerprint });
    expect(file.switchId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps the same certificate across restarts, so pinned agents keep working", async () => {
    await server.stop();
    server = startServer({ DATA_DIR: dataDir, HOST: "127.0.0.1", TLS: "on" });
    base = (await server.ready).replace(/\/$/, "");
    expect(new X509Certificate(readFileSync(join(dataDir, "tls-cert.pem"), "utf8")).fingerprint256).toBe(fingerprint);
    expect(server.output().stdout).toContain(`SHA-256 fingerprint ${fingerprint}`);
    expect((await call("/readyz")).status).toBe(200);
  });
});

describe("start-up refuses TLS settings that cannot work", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sb-tls-bad-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  async function startFails(env: Record<string, string>): Promise<string> {
    const server = startServer({ DATA_DIR: dataDir, ...env });
    expect(await server.exited).toBe(1);
    return server.output().stderr;
  }

  it("a certificate without its key", async () => {
    expect(await startFails({ TLS_CERT: join(dataDir, "cert.pem") })).toMatch(/TLS_CERT and TLS_KEY go together/);
  });

  it("a key that belongs to another certificate", async () => {
    const first = join(dataDir, "first");
    const server = startServer({ DATA_DIR: first, TLS: "on" });
    await server.ready;
    await server.stop();
    const second = join(dataDir, "second");
    const other = startServer({ DATA_DIR: second, TLS: "on" });
    await other.ready;
    await other.stop();
    const stderr = await startFails({
      TLS_CERT: join(first, "tls-cert.pem"),
      TLS_KEY: join(second, "tls-key.pem"),
    });
    expect(stderr).toMatch(/TLS_CERT\/TLS_KEY: the key does not belong to the certificate/);
  });
});
