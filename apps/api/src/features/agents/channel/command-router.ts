import { randomUUID } from "node:crypto";
import type { AgentCommand, CommandResult } from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import type { ClusterEvent, EventLog } from "../../../cluster/event-log.ts";
import type { AgentHub } from "./agent-hub.ts";

const COMMAND_EVENT = "command";
const RESULT_EVENT = "command-result";

interface CommandPayload {
  id: string;
  switchId: string;
  command: AgentCommand["command"];
  timeoutMs: number;
}

interface ResultPayload {
  id: string;
  result: CommandResult | null;
}

export interface SentCommand {
  id: string;
  /** The agent's answer, or null when no instance holds its agent or it did not answer in time. */
  result: Promise<CommandResult | null>;
}

/**
 * Commands for a switch's agent, from whichever instance the caller landed on: sent on this
 * instance's link when it holds the agent, else written to the cluster log for the instance
 * that does, whose answer comes back the same way. Nobody holding it costs the caller the
 * timeout and a null result, as an agent that does not answer does.
 */
export class CommandRouter {
  private readonly waiting = new Map<
    string,
    { resolve: (result: CommandResult | null) => void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly hub: AgentHub,
    private readonly log: FastifyBaseLogger,
    private readonly cluster?: EventLog,
  ) {
    cluster?.subscribe((events) => {
      for (const event of events) this.heard(event);
    });
  }

  command(switchId: string, command: AgentCommand["command"], timeoutMs = 5000): SentCommand {
    const cluster = this.cluster;
    if (this.hub.get(switchId) || !cluster) return this.hub.command(switchId, command, timeoutMs);
    const id = randomUUID();
    const result = new Promise<CommandResult | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(id, { resolve, timer });
    });
    const payload: CommandPayload = { id, switchId, command, timeoutMs };
    cluster.append([{ networkId: null, kind: COMMAND_EVENT, payload }]).catch((error: unknown) => {
      this.log.warn({ err: error, switchId }, "a command for another instance's agent could not be written");
      this.answer(id, null);
    });
    return { id, result };
  }

  private heard(event: ClusterEvent): void {
    if (event.kind === COMMAND_EVENT) {
      const { id, switchId, command, timeoutMs } = event.payload as CommandPayload;
      // Only the instance holding the agent answers; the others have nothing to say.
      if (!this.hub.get(switchId)) return;
      void this.hub.command(switchId, command, timeoutMs).result.then((result) => {
        const payload: ResultPayload = { id, result };
        return this.cluster?.append([{ networkId: null, kind: RESULT_EVENT, payload }]).catch((error: unknown) => {
          this.log.warn({ err: error, switchId }, "a command's answer for another instance could not be written");
        });
      });
      return;
    }
    if (event.kind === RESULT_EVENT) {
      const { id, result } = event.payload as ResultPayload;
      this.answer(id, result);
    }
  }

  private answer(id: string, result: CommandResult | null): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    waiter.resolve(result);
  }

  close(): void {
    for (const id of [...this.waiting.keys()]) this.answer(id, null);
  }
}
