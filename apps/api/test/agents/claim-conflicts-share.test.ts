import type { LiveMessage, SessionClaimConflict } from "@switchboard/shared";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { claimConflicts } from "../../src/features/agents/sessions/claim-conflicts.ts";
import type { PrismaClient } from "../../src/generated/prisma/client.ts";

/** Accepts every call the audit write makes and records nothing. */
const anything: unknown = new Proxy(() => undefined, {
  get: (_target, key) => (key === "then" ? undefined : anything),
  apply: async () => ({ name: "sw", id: 1 }),
});
const prisma = { $transaction: async (work: (tx: unknown) => unknown) => work(anything) } as unknown as PrismaClient;
const conflict = (n: number) => ({
  kind: "withdrawn" as const,
  commonName: `h-${n}`,
  hostId: `00000000-0000-4000-8000-00000000000${n % 10}`,
  claimedBy: "sw-b",
  heldBy: "sw-a",
  reason: "its status 3 snapshot does not list it",
});

describe("claim conflicts shared with other instances", () => {
  it("shares what it tells, within the same budget, and a mirror shows it in the status, list and feed", async () => {
    const shared: SessionClaimConflict[] = [];
    const origin = claimConflicts({
      prisma,
      publish: () => undefined,
      log: pino({ level: "silent" }),
      share: (r) => shared.push(r),
    });
    for (let n = 0; n < 50; n++) origin.flag("net-1", conflict(n));
    await origin.settled();
    // A switch making claims in a loop costs the cluster as many events as it costs audit rows.
    expect(shared).toHaveLength(20);

    const heard: LiveMessage[] = [];
    const other = claimConflicts({ prisma, publish: (m) => heard.push(m), log: pino({ level: "silent" }) });
    for (const record of shared) other.mirror(record);
    expect(other.lastOf("sw-b")).toEqual(shared.at(-1));
    expect(other.list({ switchId: "sw-b" })).toHaveLength(20);
    expect(heard.filter((m) => m.type === "session-conflict")).toHaveLength(20);
  });
});
