import { describe, expect, it } from "vitest";
import { LiveSessions, type Reported } from "../../src/features/agents/sessions/live-sessions.ts";

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
    expect(changes.map((c) => [c.kind, c.kind === "ended" ? c.reason : c.session.switchId])).toEqual([
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
