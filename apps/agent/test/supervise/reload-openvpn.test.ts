import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SessionEvent } from "@switchboard/shared";
import { OPENVPN } from "@switchboard/testkit/env";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createLab, LAB_NEEDS, type Lab } from "../support/lab.ts";
import { type ManagedLab, startManagedAgent } from "../support/managed-lab.ts";

/**
 * OpenVPN runs as nobody once started, so its own SIGHUP restart can no longer read the 0600
 * keys (2.6 exits: "Cannot pre-load keyfile"). The agent reloads by restarting the process: a
 * new key reaches the running switch, the server is nobody again, and the client hook (run as
 * nobody, writing the agent's FIFO) still reports connects and disconnects.
 */

const WAIT = { timeout: 60_000, interval: 50 };
const READY = "Initialization Sequence Completed";
const count = (text: string, what: string) => text.split(what).length - 1;

describeNeeding(LAB_NEEDS, "reloading a managed OpenVPN that runs as nobody", () => {
  let lab: Lab;
  let managed: ManagedLab;
  beforeAll(async () => {
    lab = await createLab(["reloaded"]);
    managed = await startManagedAgent(lab);
    await managed.agent.handleMessage(JSON.stringify(managed.state));
    await vi.waitFor(() => expect(count(managed.log(), READY), "the first start").toBe(1), WAIT);
  }, 120_000);
  afterAll(async () => {
    await managed?.agent.stop();
    await lab?.close();
  });

  it("takes a new tls-crypt key by a restart, not a fatal SIGHUP, and hosts with the new key connect; the hook reports them", async () => {
    const keyFile = join(lab.dir, "rotated.key");
    execFileSync(OPENVPN, ["--genkey", "tls-crypt", keyFile]);
    const rotated = readFileSync(keyFile, "utf8");
    rmSync(keyFile);

    await managed.agent.handleMessage(
      JSON.stringify({
        type: "desired-state-delta",
        switchId: managed.state.switchId,
        baseRevision: 1,
        revision: 2,
        server: { tlsCryptKey: rotated },
      }),
    );

    expect(managed.sent.at(-1)).toMatchObject({ type: "ack", ok: true, revision: 2, errors: [] });
    await vi.waitFor(() => expect(count(managed.log(), READY), "the start after the reload").toBe(2), WAIT);
    const log = managed.log();
    expect(log).not.toMatch(/Cannot pre-load keyfile|Exiting due to fatal error/);
    expect(count(log, "UID set to nobody")).toBe(2);
    expect(managed.started).toHaveLength(2);

    // The lab's client reads the PKI folder when it starts: give it the new key.
    writeFileSync(join(lab.dir, "pki", "tls-crypt.key"), rotated);
    const client = await lab.startClient("reloaded");
    const events = () =>
      managed.sent
        .flatMap((m) => (m.type === "sessions" ? m.events : []))
        .filter((e: SessionEvent) => e.session.commonName === "reloaded");
    await vi.waitFor(
      () =>
        expect(
          events().map((e) => e.event),
          "the connect",
        ).toContain("connect"),
      WAIT,
    );

    await lab.stop(client);
    // Only the hook reports a disconnect at once (no status poll runs here; the management interface has none).
    await vi.waitFor(
      () =>
        expect(
          events()
            .filter((e) => e.event === "disconnect")
            .map((e) => e.source),
          "the hook's disconnect",
        ).toEqual(["hook"]),
      WAIT,
    );
  }, 180_000);
});
