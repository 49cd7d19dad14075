import { describe, expect, it } from "vitest";
import { type LinkEndsPayload, LinkStates } from "../../src/features/agents/links/link-states.ts";
import type { PrismaClient } from "../../src/generated/prisma/client.ts";

const NETWORK = "00000000-0000-4000-8000-0000000000aa";
const A = { switchId: "sw-a", networkId: NETWORK, switchName: "a" };
/** Only what LinkStates reads: the backbone subnet and the switches' backbone addresses. */
const prisma = {
  network: {
    findUnique: async () => ({
      backboneSubnet: "172.16.9.0/24",
      switches: [
        { id: "sw-a", backboneAddress: "172.16.9.1" },
        { id: "sw-b", backboneAddress: "172.16.9.2" },
      ],
    }),
  },
} as unknown as PrismaClient;

describe("link states shared with other instances", () => {
  it("shares a report only when it changes something, and a forget once", async () => {
    const shared: LinkEndsPayload[] = [];
    const links = new LinkStates(prisma, undefined, (_network, payload) => shared.push(payload));
    const report = (up: boolean, since: string) =>
      links.report(A as never, { type: "link-state", links: [{ peerOffset: 2, up, since }] } as never);
    await report(true, "2026-12-02T10:00:00.000Z");
    for (let i = 0; i < 50; i++) await report(true, "2026-12-02T10:00:00.000Z");
    await report(false, "2026-12-02T10:01:00.000Z");
    expect(shared.map((p) => p.ends.map((e) => e.up))).toEqual([[true], [false]]);
    links.forget("sw-a");
    links.forget("sw-a");
    expect(shared.at(-1)).toEqual({ switchId: "sw-a", ends: [] });
    expect(shared).toHaveLength(3);
  });

  it("mirrors another instance's ends and drops them when told the agent went", () => {
    const links = new LinkStates(prisma);
    const end = { switchId: "sw-b", peerSwitchId: "sw-a", up: true, since: "x", reportedAt: "y" };
    links.mirror(NETWORK, { switchId: "sw-b", ends: [end] }, "instance-2");
    expect(links.inNetwork(NETWORK)).toEqual([end]);
    // B moved to instance 3, which reported first; instance 2's late forget changes nothing.
    links.mirror(NETWORK, { switchId: "sw-b", ends: [{ ...end, up: false }] }, "instance-3");
    links.mirror(NETWORK, { switchId: "sw-b", ends: [] }, "instance-2");
    expect(links.inNetwork(NETWORK)).toEqual([{ ...end, up: false }]);
    links.mirror(NETWORK, { switchId: "sw-b", ends: [] }, "instance-3");
    expect(links.inNetwork(NETWORK)).toEqual([]);
  });

  it("after a move, the new instance's first report is shared, and the old instance's late forget does not erase it", async () => {
    const shared: LinkEndsPayload[] = [];
    const links = new LinkStates(prisma, undefined, (_network, payload) => shared.push(payload));
    // What the old instance said while it held A.
    const old = {
      switchId: "sw-a",
      peerSwitchId: "sw-b",
      up: true,
      since: "2026-12-02T10:00:00.000Z",
      reportedAt: "y",
    };
    links.mirror(NETWORK, { switchId: "sw-a", ends: [old] }, "instance-2");
    // A's agent is here now and repeats the same report: still news for the instances that drop the old word.
    await links.report(
      A as never,
      { type: "link-state", links: [{ peerOffset: 2, up: true, since: old.since }] } as never,
    );
    expect(shared).toHaveLength(1);
    links.mirror(NETWORK, { switchId: "sw-a", ends: [] }, "instance-2");
    expect(links.inNetwork(NETWORK).map((e) => e.switchId)).toEqual(["sw-a"]);
  });
});
