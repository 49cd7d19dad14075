import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LiveMessage } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { LiveSessions, type Reported } from "../../src/features/agents/sessions/live-sessions.ts";
import { resourcesOf } from "../../src/features/live/audit-changes.ts";
import { visibleTo } from "../../src/features/live/live-visibility.ts";
import { sessionMessages } from "../../src/features/live/session-messages.ts";

const NET = "00000000-0000-4000-8000-00000000000a";
const AT = new Date("2026-01-01T00:00:00Z");
let ids = 0;
const report = (commonName: string, connectedAt: number): Reported => ({
  commonName,
  realAddress: "198.51.100.7:1194",
  clientId: 1,
  connectedAt,
  bytesIn: 0,
  bytesOut: 0,
});
const summary = (messages: ReturnType<typeof sessionMessages>) =>
  messages.map((m) => [m.change, m.session.switchId, m.previousSwitchId]);

describe("session table changes as console messages", () => {
  const sessions = new LiveSessions(() => `s${++ids}`);

  it("tells a new session as connected, with the network and host", () => {
    const messages = sessionMessages(NET, sessions.connect("A", "h1", report("web-1", 1000), 0), AT);
    expect(summary(messages)).toEqual([["connected", "A", null]]);
    expect(messages[0]?.session).toMatchObject({ hostId: "h1", networkId: NET, commonName: "web-1" });
    expect(messages[0]?.at).toBe(AT.toISOString());
  });

  it("tells a move to another switch as one roamed message, and a counter refresh not at all", () => {
    expect(summary(sessionMessages(NET, sessions.connect("B", "h1", report("web-1", 5000), 0), AT))).toEqual([
      ["roamed", "B", "A"],
    ]);
    expect(sessionMessages(NET, sessions.connect("B", "h1", report("web-1", 5000), 0), AT)).toEqual([]);
  });

  it("tells a reconnect on the same switch as disconnected then connected, and a snapshot's missing session as disconnected", () => {
    // B's status 3 backs the roam first: a snapshot without the session then means it is over.
    expect(sessionMessages(NET, sessions.snapshot("B", [{ ...report("web-1", 5000), hostId: "h1" }], 0), AT)).toEqual(
      [],
    );
    expect(summary(sessionMessages(NET, sessions.connect("B", "h1", report("web-1", 9000), 0), AT))).toEqual([
      ["disconnected", "B", null],
      ["connected", "B", null],
    ]);
    expect(summary(sessionMessages(NET, sessions.snapshot("B", [], 0), AT))).toEqual([["disconnected", "B", null]]);
  });

  it("tells a withdrawn claim as a move back to where the host was", () => {
    const fresh = new LiveSessions(() => `s${++ids}`);
    fresh.connect("A", "h2", report("db-1", 1000), 0);
    fresh.connect("C", "h2", report("db-1", 5000), 0);
    expect(summary(sessionMessages(NET, fresh.snapshot("C", [], 0), AT))).toEqual([["roamed", "A", "C"]]);
  });
});

describe("what each role sees of a message", () => {
  const changed = (resource: string): LiveMessage =>
    ({
      type: "changed",
      resource,
      id: "00000000-0000-4000-8000-000000000001",
      networkId: NET,
      action: "x.y",
      actor: "alice",
      at: AT.toISOString(),
    }) as LiveMessage;
  const view = (role: "admin" | "operator" | "viewer" | "auditor", resource: string) => {
    const seen = visibleTo(role, changed(resource));
    return seen && seen.type === "changed" ? [seen.resource, seen.actor, seen.id === null] : null;
  };

  it("shows hosts to everyone, the actor only to roles that read the audit log", () => {
    expect(view("admin", "hosts")).toEqual(["hosts", "alice", false]);
    expect(view("auditor", "hosts")).toEqual(["hosts", "alice", false]);
    expect(view("operator", "hosts")).toEqual(["hosts", null, false]);
    expect(view("viewer", "hosts")).toEqual(["hosts", null, false]);
  });

  it("shows users and tokens to admins; to auditors as an audit entry; to the others not at all", () => {
    for (const resource of ["users", "tokens"]) {
      expect(view("admin", resource)).toEqual([resource, "alice", false]);
      expect(view("auditor", resource)).toEqual(["audit", "alice", true]);
      expect(view("operator", resource)).toBeNull();
      expect(view("viewer", resource)).toBeNull();
    }
    expect(view("viewer", "audit")).toBeNull();
  });

  it("shows sessions, agents and links to every role", () => {
    const welcome: LiveMessage = { type: "welcome", serverTime: AT.toISOString() };
    for (const role of ["admin", "operator", "viewer", "auditor"] as const)
      expect(visibleTo(role, welcome)).toBe(welcome);
  });
});

describe("audited actions as the lists they change", () => {
  /** Every action string the API's services audit, read from the source so a new one cannot be forgotten. */
  function auditedActions(): string[] {
    const root = fileURLToPath(new URL("../../src/features", import.meta.url));
    const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const actions = new Set<string>();
    for (const file of files) {
      for (const match of readFileSync(join(root, file), "utf8").matchAll(
        /action: (?:[^"\n]*\? )?"([a-z.-]+)"(?: : "([a-z.-]+)")?/g,
      )) {
        for (const action of match.slice(1)) if (action) actions.add(action);
      }
    }
    return [...actions].sort();
  }

  it("maps every audited action to a list, except those that change none", () => {
    const actions = auditedActions();
    expect(actions.length).toBeGreaterThan(25);
    const auditOnly = actions.filter((action) => resourcesOf(action).join() === "audit");
    expect(auditOnly).toEqual([
      "host.clear-session",
      "host.kill-session",
      "session.login",
      "session.login-failed",
      "session.login-failed-suppressed",
      "session.logout",
      "session.logout-everywhere",
      "user.password-failed",
    ]);
  });
});
