import { describe, expect, it } from "vitest";
import {
  type EndReason,
  type LiveSession,
  LiveSessions,
  type Reported,
  type SessionChange,
} from "../../src/features/agents/sessions/live-sessions.ts";
import { type WireBatch, wireBatch } from "../../src/features/agents/sessions/session-wire.ts";

let ids = 0;
const fresh = () => new LiveSessions(() => `s${++ids}`);
const report = (commonName: string, connectedAt: number): Reported => ({
  commonName,
  realAddress: "198.51.100.7:1194",
  clientId: 1,
  connectedAt,
  bytesIn: 0,
  bytesOut: 0,
});
const placement = (sessions: LiveSessions) =>
  Object.fromEntries(sessions.routeSessions().map((s) => [s.commonName, `${s.switchId}@${s.connectedAt}`]));

/** What an instance writes (and shares) for a list of its own changes, as SessionStore batches them. */
function batchOf(changes: SessionChange[]): WireBatch {
  const started: LiveSession[] = [];
  const updated: LiveSession[] = [];
  const ended: { session: LiveSession; at: number; reason: EndReason }[] = [];
  for (const c of changes) {
    if (c.kind === "started") started.push(c.session);
    if (c.kind === "updated" || c.kind === "confirmed") updated.push(c.session);
    if (c.kind === "ended") ended.push({ session: c.session, at: c.at, reason: c.reason });
  }
  return wireBatch(started, updated, ended);
}

describe("mirroring another instance's session changes", () => {
  it("two instances that each hear one switch end with the same placement, whatever the order", () => {
    const one = fresh();
    const two = fresh();
    // Host roams A -> B; instance one holds A's agent, two holds B's. Each decides before hearing the other.
    const onOne = one.connect("A", "h1", report("web-1", 1000), 0);
    two.mirror(batchOf(onOne), 0);
    const onTwo = two.connect("B", "h1", report("web-1", 2000), 0);
    const lateEnd = one.disconnect("A", report("web-1", 1000), 0);
    one.mirror(batchOf(onTwo), 0);
    two.mirror(batchOf(lateEnd), 0);
    expect(placement(one)).toEqual({ "web-1": "B@2000" });
    expect(placement(two)).toEqual(placement(one));
  });

  it("a newer session mirrored over one of this instance's own retires it, for this instance to write", () => {
    const one = fresh();
    const two = fresh();
    // Both started sessions for the host at once, on different switches; the newer wins on both.
    const older = one.connect("A", "h1", report("web-1", 1000), 0);
    const newer = two.connect("B", "h1", report("web-1", 3000), 0);
    const onOne = one.mirror(batchOf(newer), 5);
    expect(onOne.retired).toEqual([expect.objectContaining({ kind: "ended", reason: "roamed" })]);
    expect(onOne.retired[0]).toMatchObject({ session: { switchId: "A", connectedAt: 1000 } });
    const onTwo = two.mirror(batchOf(older), 5);
    expect(onTwo).toEqual({ mirrored: [], retired: [] });
    expect(placement(one)).toEqual({ "web-1": "B@3000" });
    expect(placement(two)).toEqual({ "web-1": "B@3000" });
  });

  it("a withdrawn claim's end comes before the put-back start, so the host goes back, not nowhere", () => {
    const one = fresh();
    const two = fresh();
    two.mirror(batchOf(one.connect("A", "h1", report("web-1", 1000), 0)), 0);
    const claim = one.connect("B", "h1", report("web-1", 2000), 0);
    two.mirror(batchOf(claim), 0);
    expect(two.get("web-1")?.claim).toBeDefined();
    // B's snapshot does not list it: instance one withdraws the claim; A's session comes back.
    const withdrawn = one.snapshot("B", [], 10);
    expect(withdrawn.map((c) => c.kind)).toEqual(["ended", "started", "conflict"]);
    two.mirror(batchOf(withdrawn), 10);
    expect(placement(two)).toEqual({ "web-1": "A@1000" });
    expect(two.get("web-1")?.id).toBe(one.get("web-1")?.id);
  });

  it("a confirmed claim reaches the copy as settled, so a later snapshot there does not withdraw it", () => {
    const one = fresh();
    const two = fresh();
    const claim = one.connect("B", "h1", report("web-1", 2000), 0);
    // A takeover of nothing is no claim; take one over from A first.
    two.mirror(batchOf(one.connect("A", "h2", report("db-1", 1000), 0)), 0);
    const takeover = one.connect("B", "h2", report("db-1", 2000), 0);
    two.mirror(batchOf([...claim, ...takeover]), 0);
    expect(two.get("db-1")?.claim).toBeDefined();
    const confirmed = one.snapshot(
      "B",
      [
        { ...report("db-1", 2000), hostId: "h2" },
        { ...report("web-1", 2000), hostId: "h1" },
      ],
      1,
    );
    two.mirror(batchOf(confirmed), 1);
    expect(two.get("db-1")?.claim).toBeUndefined();
    expect(placement(two)).toEqual({ "web-1": "B@2000", "db-1": "B@2000" });
  });

  it("replaying a batch it already has changes nothing (a load that read the table, then the same event)", () => {
    const one = fresh();
    const two = fresh();
    const batch = batchOf(one.connect("A", "h1", report("web-1", 1000), 0));
    two.mirror(batch, 0);
    expect(two.mirror(batch, 0)).toEqual({ mirrored: [], retired: [] });
    const end = batchOf(one.disconnect("A", report("web-1", 1000), 0));
    expect(two.mirror(end, 0).mirrored.map((c) => c.kind)).toEqual(["ended"]);
    expect(two.mirror(end, 0)).toEqual({ mirrored: [], retired: [] });
    expect(placement(two)).toEqual({});
  });

  it("a session that started and ended within one batch is shared as an end only", () => {
    const one = fresh();
    const changes = [
      ...one.connect("A", "h1", report("web-1", 1000), 0),
      ...one.disconnect("A", report("web-1", 1000), 0),
    ];
    const batch = batchOf(changes);
    expect(batch.started).toEqual([]);
    expect(batch.ended).toHaveLength(1);
    const two = fresh();
    two.mirror(batch, 0);
    expect(placement(two)).toEqual({});
  });
});
