import type { SessionSettings } from "../../auth/identity.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { TypedApp } from "../../http/typed-app.ts";
import { onAuditCommitted } from "../audit/audit-log.ts";
import { changedMessages } from "./audit-changes.ts";
import type { LiveBus } from "./live-bus.ts";
import { DEFAULT_LIVE, type LiveSettings, liveSocketRoute } from "./live-socket.ts";

/**
 * Account changes that may end sessions or tokens: the consoles behind them are checked at once, not at the next
 * timer. Whole names: a failed password change (user.password-failed) ends nothing.
 */
const ENDS_ACCESS = /^(session\.logout(-everywhere)?|user\.(update|delete|password)|token\.revoke)$/;

/**
 * The composition root of the console's live feed: the websocket, and the committed changes it
 * carries. Sessions, agents and links publish to the same bus from the agents feature.
 */
export function registerLive(
  app: TypedApp,
  deps: { prisma: PrismaClient; bus: LiveBus; sessions: SessionSettings; settings?: Partial<LiveSettings> },
) {
  const { prisma, bus } = deps;
  const socket = liveSocketRoute(app, {
    bus,
    prisma,
    sessions: deps.sessions,
    settings: { ...DEFAULT_LIVE, ...deps.settings },
  });

  // One queue, so changes reach consoles in commit order even when one needs a lookup.
  let queue: Promise<void> = Promise.resolve();
  let recheck: Promise<void> = Promise.resolve();
  const stopListening = onAuditCommitted(prisma, (event) => {
    if (ENDS_ACCESS.test(event.action)) recheck = socket.recheck();
    if (!bus.listening) return;
    queue = queue
      .then(() => changedMessages(prisma, event))
      .then((messages) => {
        for (const message of messages) bus.publish(message);
      })
      .catch((error: unknown) => app.log.warn({ err: error, action: event.action }, "live feed: change not published"));
  });

  app.addHook("preClose", async () => {
    stopListening();
    await socket.shutdown();
    await Promise.allSettled([queue, recheck]);
  });
}
