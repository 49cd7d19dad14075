import type { AgentError, AgentErrorScope, Route } from "@switchboard/shared";
import type { FileMode } from "../files/file-writer.ts";
import type { ApplyOptions as RouteApplyOptions, RouteApplyResult } from "../routes/route-programmer.ts";
import { ccdPath } from "./layout.ts";
import type { Action } from "./plan.ts";

/** Only what apply needs of each system piece, so tests pass recording fakes. */
export interface ApplyDeps {
  readonly files: {
    write(path: string, content: string, mode: FileMode): Promise<void>;
    remove(path: string): Promise<boolean>;
    /** Many writes at once (FileWriter.writeMany): the paths that failed. Used for runs of writes. */
    writeMany?(
      entries: readonly { readonly path: string; readonly content: string; readonly mode: FileMode }[],
    ): Promise<Map<string, unknown>>;
  };
  readonly routes: { apply(routes: readonly Route[], options?: RouteApplyOptions): Promise<RouteApplyResult> };
  /**
   * The data server; undefined when OpenVPN is not running (nothing to reload or kill). reload():
   * make it re-read its config and keys (a restart in managed mode, SIGHUP otherwise).
   */
  readonly server:
    | { reload(): Promise<void>; clientKill(clientId: number, nextRemote?: boolean): Promise<void> }
    | undefined;
  /** The backbone link toward a peer, when that link runs. */
  readonly link?: (peerOffset: number) => { reload(): Promise<void> } | undefined;
}

export interface ApplyOutcome {
  readonly errors: readonly AgentError[];
  readonly routes: RouteApplyResult | undefined;
  /** Actions carried out, in order. */
  readonly done: readonly Action[];
}

/** From this many consecutive writes on (a full install), they go through writeMany: one flush for all. */
const BULK_WRITES = 16;

type WriteAction = Extract<Action, { kind: "write-file" }>;

function writeRun(actions: readonly Action[], from: number): WriteAction[] {
  const run: WriteAction[] = [];
  for (let i = from; i < actions.length; i++) {
    const action = actions[i] as Action;
    if (action.kind !== "write-file") break;
    run.push(action);
  }
  return run;
}

function failure(action: Action, error: unknown): AgentError {
  const scopes: Record<Action["kind"], AgentErrorScope> = {
    "apply-routes": "route",
    "write-file": "file",
    "remove-file": "file",
    "reload-server": "reload",
    "reload-link": "reload",
    "kill-session": "session",
  };
  const target =
    action.kind === "write-file" || action.kind === "remove-file"
      ? action.path
      : action.kind === "kill-session"
        ? action.commonName
        : action.kind === "reload-link"
          ? `link ${action.peerOffset}`
          : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return target === undefined
    ? { scope: scopes[action.kind], message }
    : { scope: scopes[action.kind], target, message };
}

/**
 * The only code that executes plan actions. Each action's failure is recorded and the rest go
 * on, except where going on would do harm: a server reload is skipped if one of the files it
 * would re-read failed to write (a new certificate with the old key stops OpenVPN at its restart),
 * and a host is not kicked if its new client-config file is not in place.
 */
export async function applyActions(actions: readonly Action[], deps: ApplyDeps): Promise<ApplyOutcome> {
  const errors: AgentError[] = [];
  const done: Action[] = [];
  const failedPaths = new Set<string>();
  let routes: RouteApplyResult | undefined;

  for (let index = 0; index < actions.length; index++) {
    const action = actions[index] as Action;
    const run = writeRun(actions, index);
    if (run.length >= BULK_WRITES && deps.files.writeMany !== undefined) {
      const failed = await deps.files.writeMany(run);
      for (const write of run) {
        const error = failed.get(write.path);
        if (error === undefined) done.push(write);
        else {
          failedPaths.add(write.path);
          errors.push(failure(write, error));
        }
      }
      index += run.length - 1;
      continue;
    }
    try {
      switch (action.kind) {
        case "apply-routes": {
          routes = await deps.routes.apply(action.routes, {
            verifiedFullSnapshot: action.verifiedFullSnapshot,
            ...(action.readKernel === true ? { readKernel: true } : {}),
          });
          for (const failure of routes.failed) {
            errors.push({
              scope: failure.reason === "guard" ? "guard" : "route",
              target: failure.destination,
              message: `${failure.reason}: ${failure.message}`,
            });
          }
          break;
        }
        case "write-file":
          await deps.files.write(action.path, action.content, action.mode);
          break;
        case "remove-file":
          await deps.files.remove(action.path);
          break;
        case "reload-server": {
          const blocked = action.because.filter((path) => failedPaths.has(path));
          if (blocked.length > 0) {
            errors.push({ scope: "reload", message: `server not reloaded: ${blocked.join(", ")} not written` });
            continue;
          }
          if (deps.server === undefined) {
            errors.push({ scope: "reload", message: "server not reloaded: management interface not connected" });
            continue;
          }
          await deps.server.reload();
          break;
        }
        case "reload-link": {
          const link = deps.link?.(action.peerOffset);
          if (link === undefined) continue; // Not running: it reads the new files when it starts.
          if (action.because.some((path) => failedPaths.has(path))) {
            errors.push({
              scope: "reload",
              target: `link ${action.peerOffset}`,
              message: "link not reloaded: files not written",
            });
            continue;
          }
          await link.reload();
          break;
        }
        case "kill-session": {
          if (failedPaths.has(ccdPath(action.commonName))) {
            errors.push({
              scope: "session",
              target: action.commonName,
              message: "session kept: client-config file not written",
            });
            continue;
          }
          if (deps.server === undefined) {
            errors.push({ scope: "session", target: action.commonName, message: "management interface not connected" });
            continue;
          }
          await deps.server.clientKill(action.clientId);
          break;
        }
      }
      done.push(action);
    } catch (error) {
      if (action.kind === "write-file" || action.kind === "remove-file") failedPaths.add(action.path);
      errors.push(failure(action, error));
    }
  }
  return { errors, routes, done };
}
