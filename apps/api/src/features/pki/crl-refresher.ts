import type { FastifyInstance } from "fastify";
import type { PkiService } from "./pki-service.ts";

const HOUR_MS = 3_600_000;

/**
 * Republishes CRLs before they expire: OpenVPN refuses every client once its CRL passes
 * nextUpdate, so a quiet network must never let it lapse. Runs at start and then hourly.
 */
export function startCrlRefresher(app: FastifyInstance, pki: PkiService, intervalMs = HOUR_MS) {
  const run = () =>
    pki
      .refreshDueCrls()
      .then((count) => count > 0 && app.log.info({ count }, "republished CRLs"))
      .catch((error) => app.log.error({ err: error }, "CRL refresh failed; will retry"));
  let timer: NodeJS.Timeout | undefined;
  app.addHook("onReady", async () => {
    void run();
    timer = setInterval(run, intervalMs);
    timer.unref();
  });
  app.addHook("onClose", async () => clearInterval(timer));
}
