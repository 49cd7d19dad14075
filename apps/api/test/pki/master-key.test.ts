import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateMasterKey, PkiError } from "../../src/pki/index.ts";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "pki-master-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe("loadOrCreateMasterKey from the data folder", () => {
  it("creates master.key with mode 0600 on first use and reads the same key afterwards", async () => {
    const first = await loadOrCreateMasterKey({ dataDir });
    expect(first.source).toBe("created");
    expect(first.key).toHaveLength(32);
    const path = join(dataDir, "master.key");
    expect(first.path).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, "utf8").trim(), "base64").equals(first.key)).toBe(true);

    const second = await loadOrCreateMasterKey({ dataDir });
    expect(second.source).toBe("file");
    expect(second.key.equals(first.key)).toBe(true);
  });

  it("creates the data folder when it does not exist yet", async () => {
    const nested = join(dataDir, "a", "b");
    expect((await loadOrCreateMasterKey({ dataDir: nested })).source).toBe("created");
  });

  it("gives every concurrent first start the same key", async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateMasterKey({ dataDir })));
    expect(keys.filter((k) => k.source === "created")).toHaveLength(1);
    expect(new Set(keys.map((k) => k.key.toString("hex"))).size).toBe(1);
  });

  it("refuses a key file readable by others and says to chmod 600", async () => {
    await loadOrCreateMasterKey({ dataDir });
    const path = join(dataDir, "master.key");
    chmodSync(path, 0o644);
    const load = loadOrCreateMasterKey({ dataDir });
    await expect(load).rejects.toThrow(PkiError);
    await expect(load).rejects.toThrow(`${path}: is readable or writable by group or others (mode 0644)`);
    await expect(load).rejects.toThrow(`run chmod 600 ${path}`);
    chmodSync(path, 0o640);
    await expect(loadOrCreateMasterKey({ dataDir })).rejects.toThrow(/mode 0640/);
  });

  it("refuses a key file with the wrong content instead of replacing it", async () => {
    const path = join(dataDir, "master.key");
    writeFileSync(path, "too short\n", { mode: 0o600 });
    await expect(loadOrCreateMasterKey({ dataDir })).rejects.toThrow(
      `${path}: must be 32 bytes written as 64 hex digits or as base64 (44 characters)`,
    );
    expect(readFileSync(path, "utf8")).toBe("too short\n");
  });
});

describe("loadOrCreateMasterKey from the environment", () => {
  const hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

  it("accepts 64 hex digits or base64 and ignores the key file", async () => {
    const fromHex = await loadOrCreateMasterKey({ envValue: hex, dataDir });
    expect(fromHex).toEqual({ key: Buffer.from(hex, "hex"), source: "environment" });
    const base64 = Buffer.from(hex, "hex").toString("base64");
    expect((await loadOrCreateMasterKey({ envValue: ` ${base64}\n`, dataDir })).key.toString("hex")).toBe(hex);
    expect(statSync(dataDir).isDirectory()).toBe(true);
    expect(() => statSync(join(dataDir, "master.key"))).toThrow();
  });

  it("treats an empty value as unset", async () => {
    expect((await loadOrCreateMasterKey({ envValue: "", dataDir })).source).toBe("created");
  });

  it("names the variable and the rule for a wrong length, without echoing the secret", async () => {
    const secret = hex.slice(0, 62);
    const load = loadOrCreateMasterKey({ envValue: secret, envName: "SWITCHBOARD_MASTER_KEY", dataDir });
    await expect(load).rejects.toThrow(
      "SWITCHBOARD_MASTER_KEY: must be 32 bytes written as 64 hex digits or as base64 (44 characters); got 62 characters",
    );
    await expect(load).rejects.not.toThrow(secret);
    const shortBase64 = Buffer.alloc(16).toString("base64");
    await expect(loadOrCreateMasterKey({ envValue: shortBase64, dataDir })).rejects.toThrow(
      /^SWITCHBOARD_MASTER_KEY: /,
    );
  });
});
