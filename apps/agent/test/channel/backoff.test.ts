import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/channel/backoff.ts";
import { channelUrl } from "../../src/channel/channel-client.ts";

describe("full-jitter backoff", () => {
  it("draws each delay between 0 and min(cap, base * 2^attempt), and starts over after reset", () => {
    const high = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5, 6].map(() => high.next())).toEqual([99, 199, 399, 799, 999, 999]);
    high.reset();
    expect(high.next()).toBe(99);
    const low = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0 });
    expect(low.next()).toBe(0);
  });

  it("spreads delays (not all the same) so agents do not reconnect in lockstep", () => {
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff({ baseMs: 1000, capMs: 30_000 }).next()));
    expect(delays.size).toBeGreaterThan(10);
  });

  it("turns the API URL into the channel URL", () => {
    expect(channelUrl("http://127.0.0.1:8080")).toBe("ws://127.0.0.1:8080/api/agent/channel");
    expect(channelUrl("https://api.example.net/")).toBe("wss://api.example.net/api/agent/channel");
  });
});
