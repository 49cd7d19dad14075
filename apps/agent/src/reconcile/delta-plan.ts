import type {
  DesiredBackboneLink,
  DesiredHost,
  DesiredState,
  DesiredStateDelta,
  Route,
  ServerFileName,
} from "@switchboard/shared";
import type { FileMode } from "../files/file-writer.ts";
import { dedupeKills, killReason, killSession } from "./host-rules.ts";
import {
  ccdPath,
  LINK_RELOAD_FILES,
  linkConfigPath,
  SECRET_FILES,
  SERVER_FILES,
  SERVER_RELOAD_FILES,
} from "./layout.ts";
import type { Action, ObservedSession } from "./plan.ts";

/**
 * The plan for one (merged) delta, in O(what it names): plan.ts compares the whole state with
 * the disk; this compares the parts the delta names with the state they replace, which the
 * agent applied before (the slow full reconcile repairs a disk that drifted from it). Same
 * rules and the same action order as plan.ts: routes, writes, removals, then a server reload
 * or the kills it makes redundant, then link reloads.
 */
export interface DeltaPlanInput {
  readonly before: DesiredState;
  readonly after: DesiredState;
  readonly delta: DesiredStateDelta;
  /** `before`'s host by common name. */
  readonly hostBefore: (commonName: string) => DesiredHost | undefined;
  /** Sessions on this switch now, by common name. */
  readonly sessions: ReadonlyMap<string, ObservedSession>;
  /** The desired route list (local rule included) when the delta changes it; undefined: routes stay. */
  readonly routes: readonly Route[] | undefined;
  /** The server config is on disk, so a server runs that a changed key must reload. */
  readonly serverInstalled: boolean;
}

export function planDelta(input: DeltaPlanInput): Action[] {
  const { before, after, delta, sessions } = input;
  const actions: Action[] = [];
  const writes: Action[] = [];
  const removals: Action[] = [];
  const kills: Action[] = [];
  if (input.routes !== undefined) {
    actions.push({ kind: "apply-routes", routes: input.routes, verifiedFullSnapshot: false });
  }

  const changedServerFiles: ServerFileName[] = [];
  for (const name of Object.keys(delta.server ?? {}) as ServerFileName[]) {
    const content = after.server[name];
    if (content === before.server[name]) continue;
    const mode: FileMode = SECRET_FILES.has(name) ? "secret" : "public";
    writes.push({ kind: "write-file", path: SERVER_FILES[name], content, mode });
    changedServerFiles.push(name);
  }

  for (const host of delta.hosts?.upsert ?? []) {
    const path = ccdPath(host.commonName);
    const was = input.hostBefore(host.commonName);
    const configChanged = host.clientConfig !== (was?.clientConfig ?? null);
    if (host.clientConfig === null) removals.push({ kind: "remove-file", path });
    else if (configChanged) writes.push({ kind: "write-file", path, content: host.clientConfig, mode: "public" });
    const kill = killSession(host.commonName, sessions.get(host.commonName), killReason(host, configChanged));
    if (kill) kills.push(kill);
  }
  for (const commonName of delta.hosts?.remove ?? []) {
    removals.push({ kind: "remove-file", path: ccdPath(commonName) });
    const kill = killSession(commonName, sessions.get(commonName), killReason(undefined, false));
    if (kill) kills.push(kill);
  }

  const linkReloads: Action[] = [];
  const linkBefore = new Map<number, DesiredBackboneLink>(before.links.map((link) => [link.peerOffset, link]));
  const credentials = changedServerFiles.filter((name) => LINK_RELOAD_FILES.has(name)).map((n) => SERVER_FILES[n]);
  const upserted = new Set<number>();
  for (const link of delta.links?.upsert ?? []) {
    const path = linkConfigPath(link.peerOffset);
    const was = linkBefore.get(link.peerOffset);
    if (was?.config === link.config) continue;
    upserted.add(link.peerOffset);
    writes.push({ kind: "write-file", path, content: link.config, mode: "public" });
    // A new link has no process to reload yet (the supervisor starts it).
    if (was !== undefined) {
      linkReloads.push({ kind: "reload-link", peerOffset: link.peerOffset, because: [path, ...credentials] });
    }
  }
  for (const peerOffset of delta.links?.remove ?? []) {
    removals.push({ kind: "remove-file", path: linkConfigPath(peerOffset) });
  }
  if (credentials.length > 0) {
    for (const link of after.links) {
      if (linkBefore.has(link.peerOffset) && !upserted.has(link.peerOffset)) {
        linkReloads.push({ kind: "reload-link", peerOffset: link.peerOffset, because: credentials });
      }
    }
  }

  actions.push(...writes, ...removals);
  const reloadBecause = changedServerFiles.filter((name) => SERVER_RELOAD_FILES.has(name)).map((n) => SERVER_FILES[n]);
  if (input.serverInstalled && reloadBecause.length > 0)
    actions.push({ kind: "reload-server", because: reloadBecause });
  else actions.push(...dedupeKills(kills));
  actions.push(...linkReloads);
  return actions;
}

/** True when the delta can change the route list: its routes, the server device, or a host connected here. */
export function deltaTouchesRoutes(delta: DesiredStateDelta, connectedHere: ReadonlyMap<string, unknown>): boolean {
  if (delta.routes !== undefined || delta.serverDevice !== undefined) return true;
  const hosts = delta.hosts;
  if (hosts === undefined) return false;
  return (
    hosts.upsert.some((host) => connectedHere.has(host.commonName)) ||
    hosts.remove.some((name) => connectedHere.has(name))
  );
}
