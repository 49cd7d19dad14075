import type { DesiredHost, DesiredState, Route, ServerFileName } from "@switchboard/shared";
import { type FileMode, MODE_BITS, type ObservedFile, sha256 } from "../files/file-writer.ts";
import { dedupeKills, killReason, killSession } from "./host-rules.ts";
import {
  CCD_DIR,
  ccdPath,
  HOOK_PROGRAM,
  LINK_RELOAD_FILES,
  linkConfigPath,
  linkOffsetOf,
  SECRET_FILES,
  SERVER_FILES,
  SERVER_RELOAD_FILES,
} from "./layout.ts";
import { withLocalSessions } from "./local-routes.ts";

/**
 * The reconcile plan: a pure function from what the switch should be and what it is to the list
 * of actions that close the gap. apply.ts is the only code that carries actions out.
 */

export interface PlanDesired {
  readonly state: DesiredState;
  /** The routes come from a full snapshot whose count checked out (blast-radius guard). */
  readonly verifiedFullSnapshot: boolean;
  /** Text of the client hook program (hook/hook-script.ts). */
  readonly hookScript: string;
  /** The agent's index of `state.hosts` by common name, when it keeps one. */
  readonly hostsByName?: ReadonlyMap<string, DesiredHost>;
}

export interface ObservedSession {
  readonly commonName: string;
  /** Null until the management interface or status 3 told the CID. */
  readonly clientId: number | null;
}

export interface PlanObserved {
  /** Managed files by relative path; a missing key means no such regular file. */
  readonly files: ReadonlyMap<string, ObservedFile>;
  /** Regular files with managed names in ccd/. */
  readonly ccdFiles: readonly string[];
  /** Regular files with managed names at the top of the base directory. */
  readonly topFiles: readonly string[];
  /** Sessions on this switch's data server now. */
  readonly sessions: readonly ObservedSession[];
}

export type Action =
  | {
      readonly kind: "apply-routes";
      readonly routes: readonly Route[];
      readonly verifiedFullSnapshot: boolean;
      /** Read the kernel's table first (full reconciles): puts back routes deleted by hand. */
      readonly readKernel?: boolean;
    }
  | { readonly kind: "write-file"; readonly path: string; readonly content: string; readonly mode: FileMode }
  | { readonly kind: "remove-file"; readonly path: string }
  | { readonly kind: "reload-server"; readonly because: readonly string[] }
  | { readonly kind: "reload-link"; readonly peerOffset: number; readonly because: readonly string[] }
  | {
      readonly kind: "kill-session";
      readonly commonName: string;
      readonly clientId: number;
      readonly because: "client-config-changed" | "host-removed" | "host-disabled";
    };

function differs(observed: ObservedFile | undefined, content: string, mode: FileMode): boolean {
  return observed === undefined || observed.mode !== MODE_BITS[mode] || observed.sha256 !== sha256(content);
}

function contentDiffers(observed: ObservedFile | undefined, content: string): boolean {
  return observed === undefined || observed.sha256 !== sha256(content);
}

/**
 * Order matters and is part of the contract:
 *   1. routes first: they carry traffic now, and the local rule for just-connected hosts is here;
 *   2. file writes, then removals (a ccd file is in place before its host is made to reconnect);
 *   3. reload the data server if a file it reads only at start changed (a reload drops every
 *      client, so host kills are then left out as redundant);
 *   4. otherwise kill the sessions of hosts whose ccd file changed, vanished or was disabled,
 *      so they reconnect with the new settings (or are refused by ccd-exclusive);
 *   5. reload backbone links whose config or credentials changed.
 * A file whose content is right but mode is wrong is rewritten without a reload or kill.
 */
export function plan(desired: PlanDesired, observed: PlanObserved): Action[] {
  const { state } = desired;
  const actions: Action[] = [];
  const writes: Action[] = [];
  const removals: Action[] = [];

  const connected = new Map(observed.sessions.map((session) => [session.commonName, session]));
  actions.push({
    kind: "apply-routes",
    routes: withLocalSessions(state.routes, desired.hostsByName ?? state.hosts, connected.keys(), state.serverDevice),
    verifiedFullSnapshot: desired.verifiedFullSnapshot,
    readKernel: true,
  });

  const changedServerFiles: ServerFileName[] = [];
  for (const [name, path] of Object.entries(SERVER_FILES) as [ServerFileName, string][]) {
    const content = state.server[name];
    const mode: FileMode = SECRET_FILES.has(name) ? "secret" : "public";
    const current = observed.files.get(path);
    if (differs(current, content, mode)) writes.push({ kind: "write-file", path, content, mode });
    if (contentDiffers(current, content)) changedServerFiles.push(name);
  }
  if (differs(observed.files.get(HOOK_PROGRAM), desired.hookScript, "executable")) {
    writes.push({ kind: "write-file", path: HOOK_PROGRAM, content: desired.hookScript, mode: "executable" });
  }

  const kills: Action[] = [];
  const wantedCcd = new Set<string>();
  for (const host of state.hosts) {
    const session = connected.get(host.commonName);
    if (host.clientConfig !== null) {
      wantedCcd.add(host.commonName);
      const path = ccdPath(host.commonName);
      const current = observed.files.get(path);
      if (differs(current, host.clientConfig, "public")) {
        writes.push({ kind: "write-file", path, content: host.clientConfig, mode: "public" });
      }
      // A host connected before its file existed was let in by an older state: make it reconnect too.
      const kill = killSession(host.commonName, session, killReason(host, contentDiffers(current, host.clientConfig)));
      if (kill) kills.push(kill);
    } else {
      const kill = killSession(host.commonName, session, killReason(host, false));
      if (kill) kills.push(kill);
    }
  }
  for (const name of observed.ccdFiles) {
    if (!wantedCcd.has(name) && name !== "DEFAULT") removals.push({ kind: "remove-file", path: `${CCD_DIR}/${name}` });
  }
  const known = desired.hostsByName ?? new Set(state.hosts.map((host) => host.commonName));
  for (const session of observed.sessions) {
    if (known.has(session.commonName)) continue;
    const kill = killSession(session.commonName, session, killReason(undefined, false));
    if (kill) kills.push(kill);
  }

  const linkReloads: Action[] = [];
  const credentialsChanged = changedServerFiles.filter((name) => LINK_RELOAD_FILES.has(name));
  const wantedLinks = new Set<number>();
  for (const link of state.links) {
    wantedLinks.add(link.peerOffset);
    const path = linkConfigPath(link.peerOffset);
    const current = observed.files.get(path);
    if (differs(current, link.config, "public"))
      writes.push({ kind: "write-file", path, content: link.config, mode: "public" });
    const because = [
      ...(current !== undefined && contentDiffers(current, link.config) ? [path] : []),
      ...credentialsChanged.map((n) => SERVER_FILES[n]),
    ];
    // A link whose config did not exist before has no process to reload yet (the supervisor starts it).
    if (current !== undefined && because.length > 0)
      linkReloads.push({ kind: "reload-link", peerOffset: link.peerOffset, because });
  }
  for (const name of observed.topFiles) {
    const offset = linkOffsetOf(name);
    if (offset !== undefined && !wantedLinks.has(offset)) removals.push({ kind: "remove-file", path: name });
  }

  actions.push(...writes, ...removals);
  const reloadBecause = changedServerFiles.filter((name) => SERVER_RELOAD_FILES.has(name)).map((n) => SERVER_FILES[n]);
  // A first install (no config on disk yet) has no running server to reload.
  const installed = observed.files.has(SERVER_FILES.serverConfig);
  if (installed && reloadBecause.length > 0) actions.push({ kind: "reload-server", because: reloadBecause });
  else actions.push(...dedupeKills(kills));
  actions.push(...linkReloads);
  return actions;
}
