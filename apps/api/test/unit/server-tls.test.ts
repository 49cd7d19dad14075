import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterEach, describe, expect, it } from "vitest";
import { resolveServerTls } from "../../src/tls/server-tls.ts";
import { transportOf } from "../../src/tls/transport.ts";
import { opensslCsr } from "../support/openssl.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-server-tls-"));
  dirs.push(dir);
  return dir;
}
const selfSignedIn = (dataDir: string) =>
  resolveServerTls({
    tls: "on",
    tlsCertFile: undefined,
    tlsKeyFile: undefined,
    host: "127.0.0.1",
    dataDir,
    publicUrl: undefined,
  });

describe("the self-signed certificate in DATA_DIR", () => {
  it("is made once, marked self-signed, and its fingerprint is the pin the enroll command carries", async () => {
    const dataDir = scratch();
    const first = await selfSignedIn(dataDir);
    expect(first).toMatchObject({ source: "created", selfSigned: true });
    const again = await selfSignedIn(dataDir);
    expect(again).toMatchObject({ source: "reused", fingerprint256: first?.fingerprint256 });
    expect(transportOf({ tls: first }).fingerprint256).toBe(first?.fingerprint256);
  });

  it("replaces a key a crash left without its certificate (never served, so never pinned)", async () => {
    const dataDir = scratch();
    writeFileSync(join(dataDir, "tls-key.pem"), "half a key", { mode: 0o600 });
    expect(await selfSignedIn(dataDir)).toMatchObject({ source: "created" });
    expect(readFileSync(join(dataDir, "tls-key.pem"), "utf8")).toContain("PRIVATE KEY");
  });

  it("refuses a key that others may read, like master.key", async () => {
    const dataDir = scratch();
    await selfSignedIn(dataDir);
    chmodSync(join(dataDir, "tls-key.pem"), 0o644);
    await expect(selfSignedIn(dataDir)).rejects.toThrow(/TLS key must be private to this user: run chmod 600/);
  });

  it("refuses a key that is a symlink", async () => {
    const dataDir = scratch();
    const made = await selfSignedIn(dataDir);
    const elsewhere = join(scratch(), "key.pem");
    writeFileSync(elsewhere, made?.keyPem ?? "", { mode: 0o600 });
    rmSync(join(dataDir, "tls-key.pem"));
    symlinkSync(elsewhere, join(dataDir, "tls-key.pem"));
    await expect(selfSignedIn(dataDir)).rejects.toThrow(/must be a regular file/);
  });

  it("never leaves its key behind a temporary name someone could have planted", async () => {
    const dataDir = scratch();
    await selfSignedIn(dataDir);
    expect(existsSync(join(dataDir, "tls-key.pem"))).toBe(true);
    const leftovers = execFileSync("ls", ["-A", dataDir], { encoding: "utf8" })
      .split("\n")
      .filter((f) => f.endsWith(".tmp"));
    expect(leftovers).toEqual([]);
  });
});

describeNeeding(["openssl"], "an operator's certificate an authority signed", () => {
  it("is not pinned: a pin would break at the certificate's next renewal", async () => {
    const dir = scratch();
    const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Test Authority");
    const { csrPath } = opensslCsr({ dir }, "api", "/CN=vpn.example.net");
    run("x509", "-req", "-in", csrPath, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "api.crt");
    const tls = await resolveServerTls({
      tls: "auto",
      tlsCertFile: join(dir, "api.crt"),
      tlsKeyFile: join(dir, "api.key"),
      host: "0.0.0.0",
      dataDir: dir,
      publicUrl: undefined,
    });
    expect(tls).toMatchObject({ source: "files", selfSigned: false });
    expect(transportOf({ tls }).fingerprint256).toBeUndefined();
  });
});
