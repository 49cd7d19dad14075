import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPENVPN } from "@switchboard/testkit/env";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTlsCryptKey, PkiError, parseTlsCryptKey } from "../../src/pki/index.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pki-tls-crypt-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tls-crypt key", () => {
  it("is written as 16 lines of 32 hex digits between the OpenVPN static key markers", () => {
    const text = generateTlsCryptKey();
    const lines = text.trimEnd().split("\n");
    const begin = lines.indexOf("-----BEGIN OpenVPN Static key V1-----");
    expect(begin).toBeGreaterThanOrEqual(0);
    const body = lines.slice(begin + 1, begin + 17);
    expect(body.every((line) => /^[0-9a-f]{32}$/.test(line))).toBe(true);
    expect(lines[begin + 17]).toBe("-----END OpenVPN Static key V1-----");
    expect(lines.slice(0, begin).every((line) => line.startsWith("#"))).toBe(true);
  });

  it("round-trips through the parser and differs every time", () => {
    const a = generateTlsCryptKey();
    expect(parseTlsCryptKey(a)).toHaveLength(256);
    expect(parseTlsCryptKey(a).toString("hex")).toBe(a.match(/^[0-9a-f]{32}$/gm)?.join(""));
    expect(generateTlsCryptKey()).not.toBe(a);
  });

  itNeeding(["openvpn"], "parses what openvpn --genkey tls-crypt writes", () => {
    const file = join(dir, "openvpn.key");
    expect(spawnSync(OPENVPN, ["--genkey", "tls-crypt", file]).status).toBe(0);
    expect(parseTlsCryptKey(readFileSync(file, "utf8"))).toHaveLength(256);
  });

  itNeeding(["openvpn"], "is accepted by openvpn as a static key", () => {
    const file = join(dir, "ours.key");
    writeFileSync(file, generateTlsCryptKey());
    // --test-crypto loads the key file with OpenVPN's own parser and runs an encrypt/decrypt loop.
    const run = spawnSync(OPENVPN, ["--test-crypto", "--secret", file, "--cipher", "AES-256-CBC", "--verb", "1"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stdout).toContain("crypto self-test mode SUCCEEDED");
    expect(run.status).toBe(0);
  });

  it("refuses truncated, padded or decorated keys", () => {
    const good = generateTlsCryptKey();
    const lines = good.split("\n");
    const cases = [
      "",
      good.replace(/-----END[^\n]+/, ""),
      lines.filter((_, i) => i !== 5).join("\n"), // one key line missing
      good.replace(/^([0-9a-f]{31})[0-9a-f]$/m, "$1"), // one digit short
      good.replace(/^[0-9a-f]{32}$/m, "zz".repeat(16)),
      `${good}\nremote example.com\n`,
    ];
    for (const text of cases) {
      expect(() => parseTlsCryptKey(text), JSON.stringify(text.slice(0, 40))).toThrow(PkiError);
    }
    expect(() => parseTlsCryptKey(lines.filter((_, i) => i !== 5).join("\n"))).toThrow(
      "tlsCryptKey: key block must be exactly 16 lines of 32 hex digits (256 bytes)",
    );
  });

  it("accepts Windows line endings and no comment header", () => {
    const bare = generateTlsCryptKey().split("\n").slice(3).join("\r\n");
    expect(parseTlsCryptKey(bare)).toHaveLength(256);
  });
});
