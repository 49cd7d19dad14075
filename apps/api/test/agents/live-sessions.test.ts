import { describe, expect, it } from "vitest";
import { LiveSessions, type Reported, type SessionChange } from "../../src/features/agents/sessions/live-sessions.ts";

let ids = 0;
const fresh = () => new LiveSessions(() => `s${++ids}`);
const report = (commonName: string, connectedAt: number, extra: Partial<Reported> = {}): Reported => ({
  commonName,
  realAddress: "198.51.100.7:1194",
  clientId: 1,
  connectedAt,
  bytesIn: 0,
  bytesOut: 0,
  ...extra,
});
const placement = (sessions: LiveSessions) =>
  Object.fromEntries(sessions.routeSessions().map((s) => [s.commonName, s.switchId]));

describe("live sessions (roaming and out-of-order reports)", () => {
  it("retires the session on A when the host shows up on B later", () => {
    const sessions = fresh();
    sessions.connect("A", "h1", report("web-1", 1000), 0);
    const changes = sessions.connect("B", "h1", report("web-1", 5000), 0);
    expect(
      changes.map((c) => [c.kind, c.kind === "ended" ? c.reason : "session" in c ? c.session.switchId : null]),
    ).toEqual([
      ["ended", "roamed"],
      ["started", "B"],
    ]);
    expect(placement(sessions)).toEqual({ "web-1": "B" });
  });

  it("ignores a report of an older session arriving after the newer one, in either order", () => {
    const sessions = fresh();
    sessions.connect("B", "h1", report("web-1", 5000), 0);
    expect(sessions.connect("A", "h1", report("web-1", 1000), 0)).toEqual([]);
    expect(sessions.disconnect("A", report("web-1", 1000), 0)).toEqual([]);
    expect(placement(sessions)).toEqual({ "web-1": "B" });
  });

  it("treats reports within a second of each other on one switch as the same session and refreshes it", () => {
    const sessions = fresh();
    sessions.connect("A", "h1", report("web-1", 1000, { clientId: null }), 0);
    const changes = sessions.connect("A", "h1", report("web-1", 1500, { clientId: 7, bytesIn: 10 }), 0);
    expect(changes.map((c) => c.kind)).toEqual(["updated"]);
    expect(sessions.get("web-1")).toMatchObject({ clientId: 7, bytesIn: 10, connectedAt: 1000 });
  });

  it("breaks a tie in connect time by switch id, so the answer never depends on arrival order", () => {
    const one = fresh();
    one.connect("A", "h1", report("web-1", 1000), 0);
    one.connect("B", "h1", report("web-1", 1000), 0);
    const other = fresh();
    other.connect("B", "h1", report("web-1", 1000), 0);
    other.connect("A", "h1", report("web-1", 1000), 0);
    expect(placement(one)).toEqual({ "web-1": "B" });
    expect(placement(other)).toEqual({ "web-1": "B" });
  });

  it("ends the switch's sessions a snapshot no longer lists, and no other switch's", () => {
    const sessions = fresh();
    sessions.connect("A", "h1", report("web-1", 1000), 0);
    sessions.connect("A", "h2", report("db-1", 1000), 0);
    sessions.connect("B", "h3", report("mail-1", 1000), 0);
    const changes = sessions.snapshot("A", [{ ...report("db-1", 1000), hostId: "h2" }], 0);
    expect(changes.filter((c) => c.kind === "ended").map((c) => c.session.commonName)).toEqual(["web-1"]);
    expect(placement(sessions)).toEqual({ "db-1": "A", "mail-1": "B" });
  });
});

describe("live sessions: a takeover is a claim until the claiming switch's status 3 backs it", () => {
  const listed = (commonName: string, connectedAt: number, hostId = "h1") => ({
    ...report(commonName, connectedAt),
    hostId,
  });
  const kinds = (changes: SessionChange[]) =>
    changes.map((c) =>
      c.kind === "ended" ? `ended:${c.reason}` : c.kind === "conflict" ? `conflict:${c.conflict.kind}` : c.kind,
    );
  /** web-1 confirmed on A, then taken over by B: the claim waits for B's snapshot. */
  function takenOver() {
    const sessions = fresh();
    sessions.connect("A", "h1", report("web-1", 1000), 0);
    sessions.connect("B", "h1", report("web-1", 5000), 0);
    expect(sessions.get("web-1")?.claim?.displaced?.switchId, "B's claim remembers A's session").toBe("A");
    return sessions;
  }

  it("moves the routes at once, and keeps them once B's snapshot lists the session", () => {
    const sessions = takenOver();
    expect(placement(sessions)).toEqual({ "web-1": "B" });
    const changes = sessions.snapshot("B", [listed("web-1", 5000)], 0);
    expect(kinds(changes)).toEqual(["confirmed", "updated"]);
    expect(sessions.get("web-1")?.claim).toBeUndefined();
    expect(sessions.hasClaims("B")).toBe(false);
  });

  it("withdraws the claim when B's snapshot does not list it, and puts A's session back", () => {
    const sessions = takenOver();
    const changes = sessions.snapshot("B", [], 0);
    expect(kinds(changes)).toEqual(["ended:withdrawn", "started", "conflict:withdrawn"]);
    expect(placement(sessions)).toEqual({ "web-1": "A" });
    expect(sessions.get("web-1")).toMatchObject({ switchId: "A", connectedAt: 1000 });
    const conflict = changes.find((c) => c.kind === "conflict");
    expect(conflict).toMatchObject({ conflict: { claimedBy: "B", heldBy: "A", hostId: "h1" } });
  });

  it("does not let the snapshot that makes a claim confirm it", () => {
    const sessions = fresh();
    sessions.connect("A", "h1", report("web-1", 1000), 0);
    sessions.snapshot("B", [listed("web-1", 5000)], 0);
    expect(sessions.get("web-1")).toMatchObject({ switchId: "B", claim: { displaced: { switchId: "A" } } });
    expect(kinds(sessions.snapshot("B", [listed("web-1", 5000)], 0))).toEqual(["confirmed", "updated"]);
  });

  it("withdraws the claim when B's own status 3 poll ends it; a hook disconnect just puts A back", () => {
    const polled = takenOver();
    expect(kinds(polled.disconnect("B", report("web-1", 5000), 0, true))).toEqual([
      "ended:withdrawn",
      "started",
      "conflict:withdrawn",
    ]);
    const hooked = takenOver();
    expect(kinds(hooked.disconnect("B", report("web-1", 5000), 0))).toEqual(["ended:disconnect", "started"]);
    expect(placement(hooked)).toEqual({ "web-1": "A" });
  });

  it("puts nothing back once A itself reported its session over", () => {
    const sessions = takenOver();
    expect(sessions.disconnect("A", report("web-1", 1000), 0)).toEqual([]);
    expect(kinds(sessions.snapshot("B", [], 0))).toEqual(["ended:withdrawn", "conflict:withdrawn"]);
    expect(placement(sessions)).toEqual({});
  });

  it("withdraws a claim whose switch did not answer in time, and only that claim", () => {
    const sessions = takenOver();
    const id = sessions.get("web-1")?.id as string;
    expect(sessions.expire("web-1", "another-session", "late", 0)).toEqual([]);
    expect(kinds(sessions.expire("web-1", id, "late", 0))).toEqual([
      "ended:withdrawn",
      "started",
      "conflict:withdrawn",
    ]);
  });

  it("keeps the claim's origin when another switch takes the host over before B is backed", () => {
    const sessions = takenOver();
    sessions.connect("C", "h1", report("web-1", 6000), 0);
    expect(sessions.get("web-1")?.claim?.displaced?.switchId, "still A, the last confirmed holder").toBe("A");
    sessions.snapshot("C", [], 0);
    expect(placement(sessions)).toEqual({ "web-1": "A" });
  });

  it("flags a double claim when A, asked after B was confirmed, still lists the older session", () => {
    const sessions = takenOver();
    sessions.snapshot("B", [listed("web-1", 5000)], 0);
    const changes = sessions.snapshot("A", [listed("web-1", 1000)], 0);
    expect(kinds(changes)).toEqual(["conflict:double"]);
    expect(changes[0]).toMatchObject({ conflict: { claimedBy: "B", heldBy: "B" } });
    expect(placement(sessions), "the newer, confirmed claim keeps the routes").toEqual({ "web-1": "B" });
    expect(kinds(sessions.snapshot("A", [listed("web-1", 1000)], 0)), "flagged once").toEqual([]);
  });

  it("ends every session of a switch no longer believed, hands its claims back, and puts nothing onto it", () => {
    const sessions = takenOver();
    sessions.connect("B", "h2", report("db-1", 2000), 0);
    sessions.connect("A", "h3", report("mail-1", 1000), 0);
    sessions.connect("C", "h3", report("mail-1", 3000), 0);
    const changes = sessions.endSwitch("B", "revoked", 0);
    expect(kinds(changes)).toEqual(["ended:revoked", "started", "ended:revoked"]);
    expect(placement(sessions)).toEqual({ "web-1": "A", "mail-1": "C" });
    const ended = sessions.endSwitch("A", "disabled", 0);
    expect(kinds(ended)).toEqual(["ended:disabled"]);
    expect(kinds(sessions.snapshot("C", [], 0)), "C's claim has nothing left to go back to").toEqual([
      "ended:withdrawn",
      "conflict:withdrawn",
    ]);
  });

  it("clears a host's session whoever holds or claims it", () => {
    const sessions = takenOver();
    expect(kinds(sessions.clear("web-1", 0))).toEqual(["ended:cleared"]);
    expect(placement(sessions)).toEqual({});
    expect(sessions.clear("web-1", 0)).toEqual([]);
  });
});
