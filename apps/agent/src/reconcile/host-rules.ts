import type { DesiredHost } from "@switchboard/shared";
import type { Action, ObservedSession } from "./plan.ts";

export type KillReason = "client-config-changed" | "host-removed" | "host-disabled";

/**
 * When a host connected here must reconnect, shared by the full plan and the delta plan: it
 * is gone from the state (removed), disabled (ccd-exclusive then refuses it), or its
 * client-config file changed (it reads the file only at connect). `host` undefined: removed.
 */
export function killReason(host: DesiredHost | undefined, configChanged: boolean): KillReason | undefined {
  if (host === undefined) return "host-removed";
  if (host.clientConfig === null) return "host-disabled";
  return configChanged ? "client-config-changed" : undefined;
}

/** The kill action for a session, when it has a client id to kill. */
export function killSession(
  commonName: string,
  session: ObservedSession | undefined,
  because: KillReason | undefined,
): Action | undefined {
  if (because === undefined || session?.clientId == null) return undefined;
  return { kind: "kill-session", commonName, clientId: session.clientId, because };
}

/** One kill per client id (a reload, which drops every client, replaces them all). */
export function dedupeKills(kills: readonly Action[]): Action[] {
  const seen = new Set<number>();
  return kills.filter((action) => {
    if (action.kind !== "kill-session" || seen.has(action.clientId)) return false;
    seen.add(action.clientId);
    return true;
  });
}
