import type { Route } from "@switchboard/shared";
import type { CommandRunner } from "../system/command-runner.ts";
import { checkBlastRadius } from "./blast-radius.ts";
import {
  type KernelRoute,
  parseDefaultGateways,
  parseIpRouteJson,
  parseRouteGetJson,
  type RouteLookup,
} from "./kernel-routes.ts";
import { diffKernelRoutes, parseBatchErrors, type RouteFailure, renderBatch } from "./route-diff.ts";
import { ROUTE_PROTOCOL } from "./route-protocol.ts";

export interface RouteProgrammerOptions {
  readonly runner: CommandRunner;
  /** Run `ip -n <netns>`: the bench and the tests program a throwaway namespace. */
  readonly netns?: string | undefined;
  readonly ipPath?: string;
  /** Blast-radius guard (blast-radius.ts). */
  readonly maxWithdrawShare?: number;
  readonly alwaysAllowWithdrawals?: number;
}

export interface ApplyOptions {
  /** The routes come from a full snapshot whose count was checked: the guard lets it withdraw anything. */
  readonly verifiedFullSnapshot?: boolean;
}

export interface RouteApplyResult {
  /** Our routes in the kernel afterwards (as far as the agent knows). */
  readonly applied: readonly Route[];
  readonly failed: readonly RouteFailure[];
  readonly added: number;
  readonly removed: number;
  /** `ip` invocations that changed routes: 0 for a no-op, 1 otherwise. */
  readonly routeCommands: number;
  /** `ip` invocations that only read the table. */
  readonly reads: number;
}

function toRoute(kernel: KernelRoute): Route | undefined {
  if (kernel.via === undefined || kernel.dev === undefined) return undefined;
  return { destination: kernel.destination, via: kernel.via, dev: kernel.dev };
}

/**
 * Declarative route programming, tailscale-router style: `apply(desired)` reads the routes it
 * owns, computes the difference (route-diff.ts, pure) and makes the kernel match with ONE
 * `ip -force -batch -`, adds before deletes. Applying the same set twice runs no route command;
 * a route someone deleted by hand is put back by the next apply. Routes of other protocols are
 * read only to avoid overwriting them.
 */
export class RouteProgrammer {
  private readonly ipPath: string;

  constructor(private readonly options: RouteProgrammerOptions) {
    this.ipPath = options.ipPath ?? "ip";
  }

  private args(...rest: string[]): string[] {
    return this.options.netns === undefined ? rest : ["-n", this.options.netns, ...rest];
  }

  /** The main table's IPv4 routes, ours marked `owned`. */
  async read(): Promise<KernelRoute[]> {
    const result = await this.options.runner.run(
      this.ipPath,
      this.args("-4", "-json", "route", "show", "table", "main"),
    );
    if (result.code !== 0) throw new Error(`ip route show failed (${result.code}): ${result.stderr.trim()}`);
    return parseIpRouteJson(result.stdout);
  }

  /** The kernel's own route lookup for one IPv4 address; undefined when it has no route (or ip fails). */
  async lookup(address: string): Promise<RouteLookup | undefined> {
    const result = await this.options.runner.run(this.ipPath, this.args("-4", "-json", "route", "get", address));
    return result.code === 0 ? parseRouteGetJson(result.stdout) : undefined;
  }

  /** The gateways of the main table's default routes. */
  async defaultGateways(): Promise<string[]> {
    const result = await this.options.runner.run(
      this.ipPath,
      this.args("-4", "-json", "route", "show", "default", "table", "main"),
    );
    return result.code === 0 ? parseDefaultGateways(result.stdout) : [];
  }

  async apply(desired: readonly Route[], options: ApplyOptions = {}): Promise<RouteApplyResult> {
    let reads = 1;
    const current = await this.read();
    const changes = diffKernelRoutes(desired, current);
    const owned = current.filter((r) => r.owned);
    const guard = checkBlastRadius({
      current: owned.length,
      withdraw: changes.remove.length,
      verifiedFullSnapshot: options.verifiedFullSnapshot === true,
      ...(this.options.maxWithdrawShare === undefined ? {} : { maxShare: this.options.maxWithdrawShare }),
      ...(this.options.alwaysAllowWithdrawals === undefined
        ? {}
        : { alwaysAllow: this.options.alwaysAllowWithdrawals }),
    });
    if (!guard.allowed) {
      // Refuse the whole update: a suspicious route set is not partly trusted either.
      return {
        applied: owned.flatMap((r) => toRoute(r) ?? []),
        failed: [{ destination: "0.0.0.0/0", reason: "guard", message: guard.reason }, ...changes.failures],
        added: 0,
        removed: 0,
        routeCommands: 0,
        reads,
      };
    }
    const lines = renderBatch(changes, ROUTE_PROTOCOL);
    if (lines.length === 0) {
      return {
        applied: owned.flatMap((r) => toRoute(r) ?? []),
        failed: changes.failures,
        added: 0,
        removed: 0,
        routeCommands: 0,
        reads,
      };
    }
    const result = await this.options.runner.run(
      this.ipPath,
      this.args("-force", "-batch", "-"),
      `${lines.join("\n")}\n`,
    );
    const failed = [...changes.failures];
    if (result.code === 0) {
      const removed = new Set(changes.remove);
      const upserted = new Set(changes.upsert.map((r) => r.destination));
      const kept = owned.filter((r) => !removed.has(r) && !upserted.has(r.destination));
      return {
        applied: [...kept.flatMap((r) => toRoute(r) ?? []), ...changes.upsert],
        failed,
        added: changes.upsert.length,
        removed: changes.remove.length,
        routeCommands: 1,
        reads,
      };
    }
    // Some lines failed (a link device missing, a gateway unreachable): name them, then read back
    // what the kernel really holds rather than guess.
    const errors = parseBatchErrors(result.stderr);
    let failedUpserts = 0;
    for (const [line, message] of errors) {
      const upsert = changes.upsert[line - 1];
      const remove = changes.remove[line - 1 - changes.upsert.length];
      if (upsert !== undefined) failedUpserts += 1;
      const destination = upsert?.destination ?? remove?.destination;
      if (destination !== undefined) failed.push({ destination, reason: "kernel", message });
    }
    if (errors.size === 0) failed.push({ destination: "0.0.0.0/0", reason: "kernel", message: result.stderr.trim() });
    reads += 1;
    const after = (await this.read()).filter((r) => r.owned);
    return {
      applied: after.flatMap((r) => toRoute(r) ?? []),
      failed,
      added: changes.upsert.length - failedUpserts,
      removed: changes.remove.length - (errors.size - failedUpserts),
      routeCommands: 1,
      reads,
    };
  }
}
