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
  /**
   * `from`: undefined when reported by an agent connected here (another instance's word never
   * overrides it), else the instance that shared it (only that instance's forget removes it).
   */
  private readonly bySwitch = new Map<string, { networkId: string; ends: BackboneLinkEnd[]; from?: string }>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly onChange: LinkEndListener = () => undefined,
    /** Other instances get every report and forget of this instance's agents. */
    private readonly share?: (networkId: string, payload: LinkEndsPayload) => void,
  ) {}

  async report(agent: AgentIdentity, message: LinkState): Promise<void> {
    const peers = await this.peersByOffset(agent.networkId);
    const reportedAt = new Date().toISOString();
    const previous = this.bySwitch.get(agent.switchId);
    const before = new Map(previous?.ends.map((end) => [end.peerSwitchId, end]));
    const ends: BackboneLinkEnd[] = [];
    for (const link of message.links) {
      const peerSwitchId = peers.get(link.peerOffset);
      // A link to a switch deleted meanwhile: the agent drops it at its next desired state.
      if (peerSwitchId === undefined || peerSwitchId === agent.switchId) continue;
      ends.push({ switchId: agent.switchId, peerSwitchId, up: link.up, since: link.since, reportedAt });
    }
    this.store(agent.networkId, agent.switchId, ends, before, undefined);
    // Only news travels: an agent repeating its report (or a compromised one flooding) costs no
    // cluster writes. The first report here after a move is news, whatever the mirrored copy said.
    const same =
      previous !== undefined &&
      previous.from === undefined &&
      ends.length === before.size &&
      ends.every((end) => {
        const was = before.get(end.peerSwitchId);
        return was !== undefined && was.up === end.up && was.since === end.since;
      });
    if (!same) this.share?.(agent.networkId, { switchId: agent.switchId, ends });
  }

  /** Another instance's agent reported (or went away: no ends); `from` is that instance. */
  mirror(networkId: string, payload: LinkEndsPayload, from: string): void {
    const known = this.bySwitch.get(payload.switchId);
    // The agent is connected here now: a late word from the instance it left changes nothing.
    if (known && known.from === undefined) return;
    if (payload.ends.length === 0) {
      // A late forget from the instance the agent left must not erase what its new instance said.
      if (known?.from === from) this.bySwitch.delete(payload.switchId);
      return;
    }
    const before = new Map(known?.ends.map((end) => [end.peerSwitchId, end]));
    this.store(networkId, payload.switchId, payload.ends, before, from);
  }

  /** The agent went away: what it said about its links no longer holds. */
  forget(switchId: string): void {
    const known = this.bySwitch.get(switchId);
    if (!known || known.from !== undefined) return;
    this.bySwitch.delete(switchId);
    this.share?.(known.networkId, { switchId, ends: [] });
  }

  private store(
    networkId: string,
    switchId: string,
    ends: BackboneLinkEnd[],
    before: Map<string, BackboneLinkEnd>,
    from: string | undefined,
  ) {
    this.bySwitch.set(switchId, { networkId, ends, ...(from === undefined ? {} : { from }) });
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
