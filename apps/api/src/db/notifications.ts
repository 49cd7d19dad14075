import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";

/** A LISTEN that stays up: `onNotify` for each notification, `onResumed` after a reconnect (notifications were lost meanwhile). */
export interface ListenHandlers {
  onNotify(payload: string): void;
  onResumed?(): void;
  onLost?(error: Error): void;
}

export interface Listening {
  close(): Promise<void>;
}

export type Listen = (channel: string, handlers: ListenHandlers) => Promise<Listening>;

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): void {
  // The channel is part of the LISTEN statement (it cannot be a parameter): only plain identifiers.
  if (!CHANNEL_NAME.test(channel)) throw new Error(`bad notification channel name ${JSON.stringify(channel)}`);
}

/**
 * LISTEN on a dedicated connection of its own (a pooled one would be handed to a query and
 * miss notifications). A dropped connection (server restart, pg_terminate_backend) is reopened
 * with a growing pause; `onResumed` tells the caller to read what it may have missed. Note:
 * LISTEN does not work through PgBouncer in transaction pooling mode.
 */
export function postgresListen(url: string): Listen {
  return async (channel, handlers) => {
    checkChannel(channel);
    let closed = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let pauseMs = 100;
    const open = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      next.on("notification", (message) => handlers.onNotify(message.payload ?? ""));
      // Both fire on a dropped connection; reconnect once.
      const lost = (error: Error) => {
        if (closed || client !== next) return;
        client = undefined;
        handlers.onLost?.(error);
        next.end().catch(() => undefined);
        schedule();
      };
      next.on("error", lost);
      next.on("end", () => lost(new Error("the notification connection ended")));
      client = next;
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
      } catch (error) {
        lost(error as Error);
        throw error;
      }
    };
    const schedule = () => {
      if (closed || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        open().then(
          () => {
            pauseMs = 100;
            handlers.onResumed?.();
          },
          () => {
            pauseMs = Math.min(pauseMs * 2, 2000);
          },
        );
      }, pauseMs);
      retry.unref();
    };
    try {
      await open();
    } catch (error) {
      // The first connection is the caller's to retry: no reconnect loop behind its back.
      closed = true;
      clearTimeout(retry);
      throw error;
    }
    return {
      async close() {
        closed = true;
        clearTimeout(retry);
        await client?.end().catch(() => undefined);
        client = undefined;
      },
    };
  };
}

/** PGlite is one process's database: its own listen() hears every NOTIFY, and never drops. */
export function pgliteListen(pglite: PGlite): Listen {
  return async (channel, handlers) => {
    checkChannel(channel);
    const unsubscribe = await pglite.listen(channel, (payload) => handlers.onNotify(payload));
    return { close: () => unsubscribe() };
  };
}
