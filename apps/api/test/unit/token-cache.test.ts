import { describe, expect, it } from "vitest";
import { type Identity, TOKEN_CACHE_MS, TokenCache } from "../../src/auth/identity.ts";

const identity: Identity = { kind: "token", id: "t1", userId: null, name: "token:ci", role: "admin" };

/** A lookup that answers only when told to, and counts how often the database would be asked. */
function controlledLookup() {
  const calls: {
    resolve: (value: { identity: Identity; expiresAt: Date | null }) => void;
    reject: (e: Error) => void;
  }[] = [];
  const lookup = () =>
    new Promise<{ identity: Identity; expiresAt: Date | null }>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, lookup };
}

describe("API token cache", () => {
  it("asks the database once for requests that miss together", async () => {
    const cache = new TokenCache();
    const { calls, lookup } = controlledLookup();
    const answers = [cache.resolve("h", 0, lookup), cache.resolve("h", 0, lookup), cache.resolve("h", 1, lookup)];
    expect(calls).toHaveLength(1);
    calls[0]?.resolve({ identity, expiresAt: null });
    expect(await Promise.all(answers)).toEqual([identity, identity, identity]);
    expect(await cache.resolve("h", 10, lookup)).toBe(identity);
    expect(calls).toHaveLength(1);
  });

  it("re-checks a token in the background late in its life, and never serves it past its life unchecked", async () => {
    const cache = new TokenCache();
    const { calls, lookup } = controlledLookup();
    const first = cache.resolve("h", 0, lookup);
    calls[0]?.resolve({ identity, expiresAt: null });
    await first;
    // Second half of the entry's life: answered from the cache at once, re-checked behind it.
    expect(await cache.resolve("h", TOKEN_CACHE_MS - 1, lookup)).toBe(identity);
    expect(calls).toHaveLength(2);
    // The re-check finds the token revoked: the entry goes, the next request waits for the database.
    calls[1]?.reject(new Error("revoked"));
    await new Promise((resolve) => setImmediate(resolve));
    const next = cache.resolve("h", TOKEN_CACHE_MS - 1, lookup);
    expect(calls).toHaveLength(3);
    calls[2]?.reject(new Error("revoked"));
    await expect(next).rejects.toThrow("revoked");
  });

  it("does not keep an answer that was looked up before the cache was cleared by a revocation", async () => {
    const cache = new TokenCache();
    const { calls, lookup } = controlledLookup();
    const before = cache.resolve("h", 0, lookup);
    cache.clear();
    calls[0]?.resolve({ identity, expiresAt: null });
    await before;
    const after = cache.resolve("h", 1, lookup);
    expect(calls).toHaveLength(2);
    calls[1]?.reject(new Error("revoked"));
    await expect(after).rejects.toThrow("revoked");
  });

  it("stops serving a token at its own expiry, whatever the cache's timing", async () => {
    const cache = new TokenCache();
    const { calls, lookup } = controlledLookup();
    const first = cache.resolve("h", 0, lookup);
    calls[0]?.resolve({ identity, expiresAt: new Date(100) });
    await first;
    const late = cache.resolve("h", 100, lookup);
    expect(calls).toHaveLength(2);
    calls[1]?.reject(new Error("expired"));
    await expect(late).rejects.toThrow("expired");
  });
});
