import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enroll } from "../../src/channel/enroll.ts";

function selfSigned(dir: string, name: string) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=switchboard-api"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "pipe" },
  );
  const fingerprint = execFileSync("openssl", ["x509", "-in", cert, "-noout", "-fingerprint", "-sha256"], {
    encoding: "utf8",
  })
    .trim()
    .replace(/^.*=/, "");
  return { key: readFileSync(key), cert: readFileSync(cert), fingerprint };
}

const ANSWER = {
  credential: `sba_${"A".repeat(43)}`,
  switchId: "0b0a6c1e-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
  networkId: "1b0a6c1e-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
  baseDir: "/var/lib/switchboard-agent/abcde",
};
/** What the fake API answers next; a test may swap it. */
let answer: Record<string, unknown> = ANSWER;

describeNeeding(["openssl"], "enrollment against a self-signed API", () => {
  let dir: string;
  let server: Server;
  let api: string;
  let fingerprint: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sb-pin-"));
    const tls = selfSigned(dir, "api");
    fingerprint = tls.fingerprint;
    server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        bodies.push(body);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("pins the certificate on first use and stores it with the credential in a 0600 file", async () => {
    const stateDir = join(dir, "state-a");
    const warnings: string[] = [];
    const { path, file } = await enroll({
      api,
      token: `sbe_${"t".repeat(43)}`,
      stateDir,
      log: { info: () => undefined, warn: (m) => warnings.push(m) },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(file.pin?.fingerprint256).toBe(fingerprint);
    expect(file.pin?.certPem).toContain("BEGIN CERTIFICATE");
    expect(warnings.join("\n")).toContain(fingerprint);
    expect(JSON.parse(bodies.at(-1) ?? "{}")).toEqual({ token: `sbe_${"t".repeat(43)}` });
  });

  it("accepts the expected fingerprint and refuses another one before sending the token", async () => {
    const sent = bodies.length;
    await expect(
      enroll({ api, token: `sbe_${"u".repeat(43)}`, stateDir: join(dir, "state-b"), fingerprint }),
    ).resolves.toMatchObject({ file: { switchId: ANSWER.switchId } });
    expect(bodies.length).toBe(sent + 1);

    const wrong = fingerprint.replace(/^[0-9A-F]{2}/, (pair) => (pair === "00" ? "01" : "00"));
    await expect(
      enroll({ api, token: `sbe_${"v".repeat(43)}`, stateDir: join(dir, "state-c"), fingerprint: wrong }),
    ).rejects.toThrow(/not the expected/);
    expect(bodies.length).toBe(sent + 1);
  });

  it("refuses an answer that names a folder other than its own for the switch's files (a hostile API)", async () => {
    for (const baseDir of [
      "/root",
      "/var/lib/switchboard-agent/../../../etc",
      "/var/lib/switchboard-agent/abcde/x",
      "/",
    ]) {
      answer = { ...ANSWER, baseDir };
      const stateDir = join(dir, `state-hostile-${baseDir.length}`);
      await expect(enroll({ api, token: `sbe_${"t".repeat(43)}`, stateDir, fingerprint }), baseDir).rejects.toThrow(
        /only \/var\/lib\/switchboard-agent\/<network tag> is taken/,
      );
      expect(() => statSync(join(stateDir, "agent.json"))).toThrow();
    }
    answer = ANSWER;
  });
});
