import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CREDENTIAL_FILE } from "../../src/channel/credential-file.ts";
import { enroll } from "../../src/channel/enroll.ts";
import { assertSafeTransport } from "../../src/channel/transport-policy.ts";

const AGENT_MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/**
 * Attack (issue 13): an agent pointed at http://<another machine> sent its credential and
 * received the switch's private keys in the clear. It now refuses unless told --insecure.
 * 192.0.2.1 is TEST-NET-1: refused before any packet, so nothing leaves this machine.
 */
describe("the agent's transport policy", () => {
  it("refuses plain http to another machine, naming --insecure", () => {
    expect(() => assertSafeTransport("http://192.0.2.1:8080", false, () => undefined)).toThrow(
      /refusing plain http to 192\.0\.2\.1:8080.*--insecure/,
    );
  });

  it("allows https, plain http to loopback, and plain http with --insecure (said loud)", () => {
    const warnings: string[] = [];
    assertSafeTransport("https://192.0.2.1:8443", false, (m) => warnings.push(m));
    assertSafeTransport("http://127.0.0.1:8080", false, (m) => warnings.push(m));
    assertSafeTransport("http://localhost:8080", false, (m) => warnings.push(m));
    assertSafeTransport("http://[::1]:8080", false, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    assertSafeTransport("http://192.0.2.1:8080", true, (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/^INSECURE: .*192\.0\.2\.1:8080/)]);
  });

  it("a name that only looks like loopback is another machine", () => {
    expect(() => assertSafeTransport("http://127.0.0.1.example.net", false, () => undefined)).toThrow(/refusing/);
  });

  it("enroll refuses before sending the token anywhere", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sb-insecure-"));
    try {
      await expect(enroll({ api: "http://192.0.2.1:8080", token: `sbe_${"t".repeat(43)}`, stateDir })).rejects.toThrow(
        /refusing plain http/,
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("enroll checks every --api: a second one in plain http to another machine is refused before any request", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sb-insecure-other-"));
    try {
      await expect(
        enroll({
          api: "http://127.0.0.1:9",
          otherApis: ["http://192.0.2.1:8080"],
          token: `sbe_${"t".repeat(43)}`,
          stateDir,
        }),
      ).rejects.toThrow(/refusing plain http to 192\.0\.2\.1:8080/);
      await expect(
        enroll({ api: "http://127.0.0.1:9", otherApis: ["ftp://127.0.0.1"], token: `sbe_${"t".repeat(43)}`, stateDir }),
      ).rejects.toThrow(/must be an http\(s\) URL/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("run refuses a stored plain-http API on another machine and exits 1", () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sb-insecure-run-"));
    try {
      writeFileSync(
        join(stateDir, CREDENTIAL_FILE),
        JSON.stringify({
          api: "http://192.0.2.1:8080",
          credential: `sba_${"A".repeat(43)}`,
          switchId: "0b0a6c1e-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
          networkId: "1b0a6c1e-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
          baseDir: join(stateDir, "files"),
        }),
        { mode: 0o600 },
      );
      const run = spawnSync(process.execPath, ["--import", "tsx", AGENT_MAIN, "run", "--state-dir", stateDir], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(run.stderr).toMatch(/refusing plain http to 192\.0\.2\.1:8080/);
      expect(run.status).toBe(1);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
