import type { AgentCommand, CommandResult } from "@switchboard/shared";
import { type ClusterRequests, NOT_MINE } from "../../../cluster/cluster-requests.ts";
import type { AgentHub } from "./agent-hub.ts";

const COMMAND_REQUEST = "agent-command";

interface CommandPayload {
  switchId: string;
  command: AgentCommand["command"];
  timeoutMs: number;
}

export interface SentCommand {
  id: string;
  /** The agent's answer, or null when no instance holds its agent or it did not answer in time. */
  result: Promise<CommandResult | null>;
}

/**
 * Commands for a switch's agent, from whichever instance the caller landed on: sent on this
 * instance's link when it holds the agent, else asked of the instance that does (over the
 * cluster log), whose answer comes back the same way. Nobody holding it costs the caller the
 * timeout and a null result, as an agent that does not answer does.
 */
export class CommandRouter {
  constructor(
    private readonly hub: AgentHub,
    private readonly cluster?: ClusterRequests,
  ) {
    cluster?.handle(COMMAND_REQUEST, (payload) => {
      const { switchId, command, timeoutMs } = payload as CommandPayload;
      // Only the instance holding the agent answers; the others have nothing to say.
      return this.hub.get(switchId) ? this.hub.command(switchId, command, timeoutMs).result : NOT_MINE;
    });
  }

  command(switchId: string, command: AgentCommand["command"], timeoutMs = 5000): SentCommand {
    if (this.hub.get(switchId) || !this.cluster) return this.hub.command(switchId, command, timeoutMs);
    const payload: CommandPayload = { switchId, command, timeoutMs };
    const { id, answer } = this.cluster.ask(COMMAND_REQUEST, payload, timeoutMs);
    return { id, result: answer.then((result) => (result as CommandResult | null | undefined) ?? null) };
  }
}
