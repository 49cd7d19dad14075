import { describe, expect, it } from "vitest";
import { checkApiMessage } from "../../src/protocol/check-message.ts";
import { desiredState } from "../support/desired.ts";

describe("checkApiMessage", () => {
  it("accepts a full desired state, a delta and each command", () => {
    expect(checkApiMessage(JSON.stringify(desiredState())).ok).toBe(true);
    const delta = {
      type: "desired-state-delta",
      switchId: "sw-a",
      baseRevision: 1,
      revision: 2,
      routes: { upsert: [], remove: ["10.1.1.1/32"] },
    };
    expect(checkApiMessage(JSON.stringify(delta)).ok).toBe(true);
    for (const command of [
      { kind: "kill-session", commonName: "web-1", nextRemote: true },
      { kind: "reload" },
      { kind: "diagnostics" },
    ]) {
      expect(checkApiMessage(JSON.stringify({ type: "command", id: "c-1", command })).ok).toBe(true);
    }
  });

  it("refuses malformed or hostile messages with a reason, never throwing", () => {
    const bad: [string, RegExp][] = [
      ["not json", /not JSON/],
      [JSON.stringify({ type: "launch-missiles" }), /invalid launch-missiles/],
      [
        JSON.stringify({
          ...desiredState(),
          routes: [{ destination: "10.0.0.1/32", via: "10.0.0.2", dev: "eth0\nroute flush" }],
        }),
        /invalid desired-state/,
      ],
      [
        JSON.stringify({
          ...desiredState(),
          hosts: [{ commonName: "../etc", address: "10.0.0.1", subnets: [], clientConfig: "x" }],
        }),
        /invalid desired-state/,
      ],
      [JSON.stringify({ ...desiredState(), extra: true }), /invalid desired-state/],
      [
        JSON.stringify({ type: "command", id: "x", command: { kind: "kill-session", commonName: "DEFAULT" } }),
        /invalid command/,
      ],
      [JSON.stringify(null), /invalid \? message/],
    ];
    for (const [raw, reason] of bad) {
      const result = checkApiMessage(raw);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(reason);
    }
  });
});
