import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PkiError, seal, unseal } from "../../src/pki/index.ts";

const masterKey = randomBytes(32);
const keyPem = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();
const context = "ca-key:network-1";

describe("seal", () => {
  it("round-trips a private key under the master key and context", () => {
    expect(unseal(seal(keyPem, masterKey, context), masterKey, context).toString()).toBe(keyPem);
    const bytes = randomBytes(100);
    expect(unseal(seal(bytes, masterKey, "x"), masterKey, "x").equals(bytes)).toBe(true);
  });

  it("writes version 1, a random 12-byte IV, the ciphertext and a 16-byte tag", () => {
    const a = seal(keyPem, masterKey, context);
    const b = seal(keyPem, masterKey, context);
    expect(a[0]).toBe(1);
    expect(a.length).toBe(1 + 12 + Buffer.byteLength(keyPem) + 16);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
  });

  it("does not contain the key in any readable form", () => {
    const sealed = seal(keyPem, masterKey, context);
    const body = keyPem.split("\n")[1] as string;
    for (const view of [sealed.toString("latin1"), sealed.toString("utf8"), sealed.toString("base64")]) {
      expect(view).not.toContain("PRIVATE KEY");
      expect(view).not.toContain(body.slice(0, 16));
    }
    expect(sealed.includes(Buffer.from(keyPem))).toBe(false);
  });

  it("cannot be opened with another master key", () => {
    const sealed = seal(keyPem, masterKey, context);
    expect(() => unseal(sealed, randomBytes(32), context)).toThrow(PkiError);
    expect(() => unseal(sealed, randomBytes(32), context)).toThrow(/^sealed: cannot be opened: wrong master key/);
  });

  it("cannot be opened under another context, so a blob cannot be moved to another record", () => {
    const sealed = seal(keyPem, masterKey, "ca-key:network-1");
    expect(() => unseal(sealed, masterKey, "ca-key:network-2")).toThrow(/^sealed: cannot be opened/);
    expect(() => unseal(sealed, masterKey, "host-key:network-1")).toThrow(PkiError);
  });

  it("detects a change to any byte", () => {
    const sealed = seal(keyPem, masterKey, context);
    for (const index of [0, 1, 12, 13, 40, sealed.length - 17, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[index] = (tampered[index] as number) ^ 0x01;
      expect(() => unseal(tampered, masterKey, context), `byte ${index}`).toThrow(PkiError);
    }
    expect(() => unseal(sealed.subarray(0, sealed.length - 1), masterKey, context)).toThrow(PkiError);
    expect(() => unseal(sealed.subarray(0, 20), masterKey, context)).toThrow(
      "sealed: is too short to be a sealed value",
    );
  });

  it("refuses a master key of the wrong size and an empty context", () => {
    expect(() => seal("x", randomBytes(16), context)).toThrow("masterKey: must be 32 bytes");
    expect(() => seal("x", masterKey, "")).toThrow(/^context: must name what is sealed/);
  });
});
