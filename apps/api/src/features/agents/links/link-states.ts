import { type BackboneLinkEnd, type LinkState, networkAddress, parseCidr, parseIpv4 } from "@switchboard/shared";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import type { AgentIdentity } from "../agent-credentials.ts";

/** Told when one end of a link is new or went up or down. */
export type LinkEndListener = (networkId: string, end: BackboneLinkEnd) => void;

/** The cluster event with a switch's link ends as its agent last reported them (none: it went away). */
export const LINK_ENDS_EVENT = "link-ends";

export interface LinkEndsPayload {
  switchId: string;
  ends: BackboneLinkEnd[];
}

/**
 * The backbone link ends the connected agents report, in memory: an end is only known while its
 * agent is connected (to this instance, or to another that shares them). Agents name a link by the peer's
 * offset in the backbone subnet (that is how their configs and sockets are named); the API turns
 * it into the peer's switch id.
 */
export class LinkStates {
  private readonly bySwitch = new Map<string, { networkId: string; ends: BackboneLinkEnd[] }>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly onChange: LinkEndListener = () => undefined,
    /** Other instances get every report and forget of this instance's agents. */
    private readonly share?: (networkId: string, payload: LinkEndsPayload) => void,
  ) {}

  async report(agent: AgentIdentity, message: LinkState): Promise<void> {
    const peers = await this.peersByOffset(agent.networkId);
    const reportedAt = new Date().toISOString();
    const before = new Map(this.bySwitch.get(agent.switchId)?.ends.map((end) => [end.peerSwitchId, end]));
    const ends: BackboneLinkEnd[] = [];
    for (const link of message.links) {
      const peerSwitchId = peers.get(link.peerOffset);
      // A link to a switch deleted meanwhile: the agent drops it at its next desired state.
      if (peerSwitchId === undefined || peerSwitchId === agent.switchId) continue;
      ends.push({ switchId: agent.switchId, peerSwitchId, up: link.up, since: link.since, reportedAt });
    }
    this.store(agent.networkId, agent.switchId, ends, before);
    this.share?.(agent.networkId, { switchId: agent.switchId, ends });
  }

  /** Another instance's agent reported (or went away: no ends). */
  mirror(networkId: string, payload: LinkEndsPayload): void {
    const before = new Map(this.bySwitch.get(payload.switchId)?.ends.map((end) => [end.peerSwitchId, end]));
    if (payload.ends.length === 0) this.bySwitch.delete(payload.switchId);
    else this.store(networkId, payload.switchId, payload.ends, before);
  }

  /** The agent went away: what it said about its links no longer holds. */
  forget(switchId: string): void {
    const known = this.bySwitch.get(switchId);
    this.bySwitch.delete(switchId);
    if (known) this.share?.(known.networkId, { switchId, ends: [] });
  }

  private store(networkId: string, switchId: string, ends: BackboneLinkEnd[], before: Map<string, BackboneLinkEnd>) {
    this.bySwitch.set(switchId, { networkId, ends });
    for (const end of ends) {
      if (before.get(end.peerSwitchId)?.up !== end.up) this.onChange(networkId, end);
    }
  }

  inNetwork(networkId: string): BackboneLinkEnd[] {
    return [...this.bySwitch.values()].filter((entry) => entry.networkId === networkId).flatMap((entry) => entry.ends);
  }

  private async peersByOffset(networkId: string): Promise<Map<number, string>> {
    const network = await this.prisma.network.findUnique({
      where: { id: networkId },
      select: { backboneSubnet: true, switches: { select: { id: true, backboneAddress: true } } },
    });
    const subnet = network ? parseCidr(network.backboneSubnet) : undefined;
    if (!network || !subnet) return new Map();
    const base = networkAddress(subnet);
    return new Map(network.switches.map((sw) => [(parseIpv4(sw.backboneAddress) ?? base) - base, sw.id]));
  }
}
