import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { ClusterEvent, EventLog } from "./event-log.ts";

const REQUEST_EVENT = "request";
const ANSWER_EVENT = "answer";

/** What a handler returns for a request about something another instance holds (an agent it does not have). */
export const NOT_MINE = Symbol("not mine");

type Handler = (payload: unknown) => Promise<unknown> | unknown;

interface RequestPayload {
  id: string;
  kind: string;
  payload: unknown;
}

interface AnswerPayload {
  id: string;
  answer: unknown;
}

/**
 * Questions for whichever instance holds something (an agent's socket, its last route report),
 * over the cluster log: a "request" event every instance reads, one "answer" from the instance
 * whose handler does not return NOT_MINE. Nobody answering costs the caller its timeout and
 * undefined, never a hang.
 */
export class ClusterRequests {
  private readonly handlers = new Map<string, Handler>();
  private readonly waiting = new Map<string, { resolve: (answer: unknown) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly log: EventLog,
    private readonly logger: FastifyBaseLogger,
  ) {
    log.subscribe((events) => {
      for (const event of events) this.heard(event);
    });
  }

  /** Answers requests of this kind from other instances; return NOT_MINE when this instance does not hold it. */
  handle(kind: string, handler: Handler): void {
    this.handlers.set(kind, handler);
  }

  ask(kind: string, payload: unknown, timeoutMs: number): { id: string; answer: Promise<unknown> } {
    const id = randomUUID();
    const answer = new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), timeoutMs);
      this.waiting.set(id, { resolve, timer });
    });
    const request: RequestPayload = { id, kind, payload };
    this.log.append([{ networkId: null, kind: REQUEST_EVENT, payload: request }]).catch((error: unknown) => {
      this.logger.warn({ err: error, kind }, "a request for another instance could not be written");
      this.settle(id, undefined);
    });
    return { id, answer };
  }

  close(): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, undefined);
  }

  private heard(event: ClusterEvent): void {
    if (event.kind === ANSWER_EVENT) {
      const { id, answer } = event.payload as AnswerPayload;
      this.settle(id, answer);
      return;
    }
    if (event.kind !== REQUEST_EVENT) return;
    const { id, kind, payload } = event.payload as RequestPayload;
    const handler = this.handlers.get(kind);
    if (!handler) return;
    void (async () => {
      const answer = await handler(payload);
      if (answer === NOT_MINE) return;
      await this.log.append([{ networkId: null, kind: ANSWER_EVENT, payload: { id, answer } satisfies AnswerPayload }]);
    })().catch((error: unknown) =>
      this.logger.warn({ err: error, kind }, "answering another instance's request failed"),
    );
  }

  private settle(id: string, answer: unknown): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    waiter.resolve(answer);
  }
}
