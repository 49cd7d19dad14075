import { HttpError } from "../http/error-handler.ts";

/**
 * Writes that lock a network row wait their turn here, in this process, instead of each holding
 * a pooled connection idle behind the row lock (200 concurrent creates used to exhaust the pool
 * and time out). One write per network per instance reaches the database at a time; across
 * instances the row lock still serialises them. A queue past `maxWaiting` answers 503 with
 * Retry-After rather than waiting for minutes.
 */
export class NetworkWriteQueue {
  private readonly queues = new Map<string, { tail: Promise<unknown>; waiting: number }>();

  constructor(private readonly maxWaiting = 5000) {}

  run<T>(networkId: string, work: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(networkId);
    if (!queue) {
      queue = { tail: Promise.resolve(), waiting: 0 };
      this.queues.set(networkId, queue);
    }
    if (queue.waiting >= this.maxWaiting) {
      const busy = new HttpError(503, `too many writes are waiting for network ${networkId}; retry shortly`);
      busy.retryAfter = 1;
      return Promise.reject(busy);
    }
    const current = queue;
    current.waiting += 1;
    const result = current.tail.then(work);
    // The next write waits for this one to end, however it ends.
    current.tail = result.then(
      () => undefined,
      () => undefined,
    );
    void current.tail.then(() => {
      current.waiting -= 1;
      if (current.waiting === 0 && this.queues.get(networkId) === current) this.queues.delete(networkId);
    });
    return result;
  }
}
