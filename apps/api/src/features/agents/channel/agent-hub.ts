import { randomUUID } from "node:crypto";
import type { AgentCommand, ApiToAgentMessage, CommandResult } from "@switchboard/shared";
import type { AgentIdentity } from "../agent-credentials.ts";

/** One agent's open channel, after its hello was accepted. */
export interface AgentLink {
  readonly identity: AgentIdentity;
  readonly agentVersion: string;
  send(message: ApiToAgentMessage): void;
  close(code: number, reason: string): void;
}

export const CLOSE_REPLACED = 4409;
export const CLOSE_REVOKED = 4401;

/**
 * The agents connected to this API instance, one link per switch, and the commands in flight.
 * Another connection of the same switch replaces the older one (an agent that reconnected
 * before the old socket timed out).
 */
export class AgentHub {
  private readonly links = new Map<string, AgentLink>();
  private readonly pending = new Map<
    string,
    { switchId: string; resolve: (result: CommandResult | null) => void; timer: NodeJS.Timeout }
  >();

  attach(link: AgentLink): void {
    const old = this.links.get(link.identity.switchId);
    if (old && old !== link) old.close(CLOSE_REPLACED, "replaced by a newer connection of the same switch");
    this.links.set(link.identity.switchId, link);
  }

  /** True when `link` was the switch's current link (a replaced link's close changes nothing). */
  detach(link: AgentLink): boolean {
    if (this.links.get(link.identity.switchId) !== link) return false;
    this.links.delete(link.identity.switchId);
    for (const [id, waiter] of this.pending) {
      if (waiter.switchId !== link.identity.switchId) continue;
      clearTimeout(waiter.timer);
      this.pending.delete(id);
      waiter.resolve(null);
    }
    return true;
  }

  get(switchId: string): AgentLink | undefined {
    return this.links.get(switchId);
  }

  isCurrent(link: AgentLink): boolean {
    return this.links.get(link.identity.switchId) === link;
  }

  all(): AgentLink[] {
    return [...this.links.values()];
  }

  inNetwork(networkId: string): AgentLink[] {
    return this.all().filter((link) => link.identity.networkId === networkId);
  }

  disconnect(switchId: string, code: number, reason: string): void {
    this.links.get(switchId)?.close(code, reason);
  }

  /** Sends a command; resolves with the agent's result, or null when it is offline or does not answer in time. */
  command(
    switchId: string,
    command: AgentCommand["command"],
    timeoutMs = 5000,
  ): { id: string; result: Promise<CommandResult | null> } {
    const link = this.links.get(switchId);
    const id = randomUUID();
    if (!link) return { id, result: Promise.resolve(null) };
    const result = new Promise<CommandResult | null>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, { switchId, resolve, timer });
      link.send({ type: "command", id, command });
    });
    return { id, result };
  }

  /** A command's answer; ignored unless it comes from the switch the command went to. */
  commandResult(switchId: string, result: CommandResult): void {
    const waiter = this.pending.get(result.id);
    if (!waiter || waiter.switchId !== switchId) return;
    clearTimeout(waiter.timer);
    this.pending.delete(result.id);
    waiter.resolve(result);
  }

  closeAll(code: number, reason: string): void {
    for (const link of this.all()) link.close(code, reason);
  }
}
