import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backboneLinkPaths, type LinkEndState } from "@switchboard/shared";
import { type FakeManagement, startFakeManagement } from "@switchboard/testkit/agent/fake-management";
import { afterEach, describe, expect, it } from "vitest";
import { LinkMonitor } from "../../src/openvpn/link-monitor.ts";

/** Generous: the machine may be busy. */
const WAIT = { timeout: 10_000, interval: 10 };

/** A link's OpenVPN management socket, in the state `state` (as `state` replies and >STATE: notifies). */
function fakeLink(baseDir: string, peerOffset: number, state: { name: string }) {
  return startFakeManagement(
    (command) => {
      if (command === "state on") return "SUCCESS: real-time state notification set to ON\r\n";
      if (command === "state") return `1795698533,${state.name},SUCCESS,10.200.200.1,192.0.2.2,1195,,\r\nEND\r\n`;
      return "ERROR: unknown command\r\n";
    },
    { path: backboneLinkPaths({ baseDir }, peerOffset).managementSocket },
  );
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function monitor() {
  const baseDir = mkdtempSync(join(tmpdir(), "sb-links-"));
  const reports: LinkEndState[][] = [];
  const reads: [number, boolean][] = [];
  const links = new LinkMonitor({
    baseDir,
    onChange: (states) => reports.push(states),
    onRead: (peerOffset, up) => reads.push([peerOffset, up]),
    reconnectMaxMs: 50,
  });
  cleanup.push(() => rmSync(baseDir, { recursive: true, force: true }));
  cleanup.push(() => links.close());
  const last = () => reports.at(-1)?.map((link) => [link.peerOffset, link.up]);
  const up = () => reports.at(-1)?.[0]?.up;
  return { baseDir, links, reports, reads, last, up };
}

describe("backbone link monitor (management sockets of the link processes)", () => {
  it("reports a link down while its process does not answer, and up once it says CONNECTED", async () => {
    const { baseDir, links, last, up } = monitor();
    links.sync([2]);
    expect(last()).toEqual([[2, false]]);
    let fake: FakeManagement | undefined = await fakeLink(baseDir, 2, { name: "CONNECTED" });
    cleanup.push(() => fake?.close());
    await expect.poll(() => up(), { ...WAIT, message: "the link up" }).toBe(true);
    expect(fake.received.slice(0, 2)).toEqual(["state on", "state"]);
    expect(links.states()[0]?.since).toBe(new Date(1795698533 * 1000).toISOString());

    // ping-restart: the peer stopped answering.
    fake.send(">STATE:1795698600,RECONNECTING,ping-restart,,,,,\r\n");
    await expect.poll(() => up(), { ...WAIT, message: "the link down after ping-restart" }).toBe(false);
    fake.send(">STATE:1795698610,CONNECTED,SUCCESS,10.200.200.1,192.0.2.2,1195,,\r\n");
    await expect.poll(() => up(), { ...WAIT, message: "the link up again" }).toBe(true);

    // The process went away (crash, stop): its socket closes.
    await fake.close();
    fake = undefined;
    await expect.poll(() => up(), { ...WAIT, message: "the link down when its process is gone" }).toBe(false);
  });

  it("reports a link that is up to begin with, but still waiting for its peer, as down", async () => {
    const { baseDir, links, reports, reads } = monitor();
    const fake = await fakeLink(baseDir, 3, { name: "WAIT" });
    cleanup.push(() => fake.close());
    links.sync([3]);
    // The monitor has handled the WAIT reply: only now does "no up report" mean anything.
    await expect.poll(() => reads, { ...WAIT, message: "the monitor to read the state" }).toEqual([[3, false]]);
    expect(reports.map((r) => r.map((link) => link.up))).toEqual([[false]]);
  });

  it("keeps a change notified right after the state reply, in the same read, over the older reply", async () => {
    const { baseDir, links, reports, reads } = monitor();
    // The reply says CONNECTED; OpenVPN then leaves CONNECTED and notifies it before the monitor
    // has handled the reply: both arrive in one chunk.
    const fake = await startFakeManagement(
      (command) => {
        if (command === "state on") return "SUCCESS: real-time state notification set to ON\r\n";
        if (command === "state")
          return "1795698533,CONNECTED,SUCCESS,10.200.200.1,192.0.2.2,1195,,\r\nEND\r\n>STATE:1795698534,RECONNECTING,ping-restart,,,,,\r\n";
        return "ERROR: unknown command\r\n";
      },
      { path: backboneLinkPaths({ baseDir }, 4).managementSocket },
    );
    cleanup.push(() => fake.close());
    links.sync([4]);
    await expect
      .poll(() => reads.length, { ...WAIT, message: "the monitor to read the notification" })
      .toBeGreaterThan(0);
    // A marker notification read after both: by then the reply has been handled too.
    fake.send(">STATE:1795698535,WAIT,,,,,,\r\n");
    await expect.poll(() => reads.at(-1), { ...WAIT, message: "the monitor to read the marker" }).toEqual([4, false]);
    await expect.poll(() => reads.length, { ...WAIT, message: "the marker read" }).toBeGreaterThanOrEqual(2);
    expect(reports.map((r) => r.map((link) => link.up))).toEqual([[false]]);
    expect(links.states()[0]?.up).toBe(false);
  });

  it("follows the links of the desired state: the same list twice reports nothing new", async () => {
    const { links, reports, last } = monitor();
    links.sync([2, 5]);
    links.sync([5, 2]);
    expect(reports).toHaveLength(1);
    expect(last()).toEqual([
      [2, false],
      [5, false],
    ]);
    links.sync([5]);
    expect(last()).toEqual([[5, false]]);
    links.sync([]);
    expect(last()).toEqual([]);
  });
});
